/** `lgsp log verify|export|show`: the signed message log, in the store or in an archive. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { evidenceOf } from '../crypto/evidence.js'
import { GENESIS, readArchive, verifyLog, writeArchive, type Checkpoint, type LogEntry, type LogReport } from '../crypto/message-log.js'
import { lgspError } from '../errors.js'
import type { RedisStore } from '../store/redis/index.js'
import type { LogRange, Store } from '../store/types.js'
import type { Context, Values } from './context.js'
import { gatewayCert, pkiOf } from './pki.js'
import { withStore } from './store.js'

const dbOf = (values: Values): string | undefined => typeof values.db === 'string' ? values.db : undefined

/** A store's message-log chains: one in SQLite, one per gateway instance on Redis. */
interface LogChain {
  name: string
  read: (range: LogRange) => Promise<LogEntry[]>
  checkpoints: (fromSeq: number, toSeq: number) => Promise<Checkpoint[]>
}

async function chainsOf (store: Store): Promise<LogChain[]> {
  // Only a Redis store keeps chains per instance (its module is not loaded for SQLite).
  if (store.kind !== 'redis') return [{ name: 'local', read: (r) => store.readLog(r), checkpoints: (a, b) => store.checkpoints(a, b) }]
  const redis = store as RedisStore
  return (await redis.chains()).map((name) => ({ name, read: (r) => redis.readChain(name, r), checkpoints: (a, b) => redis.checkpointsOf(name, a, b) }))
}

export async function logVerify ({ values, file, out }: Context): Promise<number> {
  if (typeof values.archive === 'string') {
    out.progress(`reading ${values.archive}`)
    const a = readArchive(readFileSync(values.archive, 'utf8'))
    // The auditor's own copy of the gateway certificate, when given, replaces the archive's.
    const certs = typeof values.cert === 'string' ? [gatewayCert(values, file)] : a.certificates
    out.progress(`checking ${a.entries.length} entries and ${a.checkpoints.length} checkpoints`)
    const report = verifyLog(a.entries, a.checkpoints, certs, a.header.anchor)
    out.result({ ...report, certificates: certs.map((c) => c.fingerprint256) })
    return report.ok ? 0 : 1
  }
  const cert = gatewayCert(values, file)
  const reports = await withStore(file, async (s) => {
    const byChain: Record<string, LogReport> = {}
    for (const c of await chainsOf(s)) {
      out.progress(`reading chain ${c.name}`)
      const entries = await c.read({})
      const checkpoints = await c.checkpoints(0, Number.MAX_SAFE_INTEGER)
      out.progress(`checking chain ${c.name}: ${entries.length} entries, ${checkpoints.length} checkpoints`)
      byChain[c.name] = verifyLog(entries, checkpoints, [cert])
    }
    return byChain
  }, dbOf(values))
  const all = Object.values(reports)
  out.result(all.length === 1 && reports.local !== undefined ? reports.local : { ok: all.every((r) => r.ok), chains: reports })
  return all.every((r) => r.ok) ? 0 : 1
}

export async function logShow ({ values, file, out }: Context): Promise<number> {
  if (typeof values.message !== 'string') { process.stderr.write('lgsp log show: give --message ID (lgsp log show --help)\n'); return 2 }
  const id = values.message
  const pki = pkiOf(values, file)
  const trust = existsSync(pki.trustDir) ? pki.trustStore() : undefined
  const entries = await withStore(file, async (s) => (await Promise.all((await chainsOf(s)).map((c) => c.read({ messageId: id })))).flat(), dbOf(values))
  const cert = gatewayCert(values, file)
  out.result(entries.map((e) => evidenceOf(e, cert, trust)))
  return entries.length > 0 ? 0 : 1
}

export async function logExport ({ values, file, out }: Context): Promise<number> {
  if (typeof values.out !== 'string') { process.stderr.write('lgsp log export: give --out FILE (lgsp log export --help)\n'); return 2 }
  const from = typeof values.from === 'string' ? Date.parse(values.from) : 0
  const to = typeof values.to === 'string' ? Date.parse(values.to) : Date.now()
  if (Number.isNaN(from) || Number.isNaN(to)) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', '--from and --to are ISO dates or times.')
  const target = values.out
  const written = await withStore(file, async (store) => {
    const chains = await chainsOf(store)
    const s = typeof values.chain === 'string' ? chains.find((c) => c.name === values.chain) : chains.length === 1 ? chains[0] : undefined
    if (s === undefined) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', `Give --chain: one of ${chains.map((c) => c.name).join(', ') || '(none yet)'}.`)
    out.progress(`reading chain ${s.name} from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`)
    const entries = await s.read({ fromAt: from, toAt: to })
    const first = entries[0]
    const last = entries[entries.length - 1]
    // Entries up to the first checkpoint after the range, so that every exported entry is under a signature.
    const after = last === undefined ? [] : (await s.checkpoints(last.seq, Number.MAX_SAFE_INTEGER)).slice(0, 1)
    const tail = after[0] === undefined || last === undefined ? [] : await s.read({ fromSeq: last.seq + 1, toSeq: after[0].seq })
    const all = [...entries, ...tail]
    const checkpoints = first === undefined ? [] : await s.checkpoints(first.seq, all[all.length - 1]!.seq)
    const anchor = first === undefined ? GENESIS : first.prevHash
    out.progress(`writing ${all.length} entries and ${checkpoints.length} checkpoints to ${target}`)
    writeFileSync(target, writeArchive({
      format: 'lgsp-log-archive/v1', createdAt: new Date().toISOString(), anchor, fromSeq: first?.seq ?? null, toSeq: all[all.length - 1]?.seq ?? null,
      certificates: [gatewayCert(values, file).toString()]
    }, all, checkpoints))
    return { entries: all.length, checkpoints: checkpoints.length }
  }, dbOf(values))
  out.result({ out: target, ...written })
  return 0
}
