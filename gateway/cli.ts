#!/usr/bin/env node
/**
 * The `lgsp` command: run the gateway or the demo, and operate its store.
 *
 *   lgsp start [--config FILE]                 run the gateway (LGSP_CONFIG also names the file)
 *   lgsp demo                                  simulators + gateway on the embedded store
 *   lgsp dlq list [--destination D] [--dossier MaHoSo] [--limit N]
 *   lgsp dlq replay ID                         put a dead-lettered unit back in the queue
 *   lgsp dlq discard ID --reason TEXT          drop it so the dossier's later units flow
 *   lgsp dlq replay|discard --destination D | --code C | --dossier M --reason TEXT [--as MEMBER]   in bulk
 *   lgsp destinations resume NAME [--as MEMBER]   resume a destination paused for refused credentials
 *   lgsp queues                                per destination: pending, in flight, dead, delivered
 *   lgsp payments settle [--date yyyy-MM-dd]   one settlement pass (QUERY for pending payments), then the day's report
 *   lgsp indicators --agency A --period P [--drill]     Decision 766 figures (P: 2024-02, 2024-Q1, 2024)
 *   lgsp reconcile --agency A --period P [--repair]      compare with DVCQG (dry run unless --repair)
 *   lgsp members hash-secret                   reads a secret on stdin, prints clientSecretHash
 *   lgsp certs init [--members a,b] [--key ec|rsa]   development CA, gateway certificate, member certificates
 *   lgsp certs issue MEMBER [--key ec|rsa] [--days N]
 *   lgsp certs revoke MEMBER|SERIAL            and republish the CRL
 *   lgsp certs import MEMBER FILE.p12 [--password-env VAR] [--trust-issuers]
 *   lgsp certs trust CA.pem [--name NAME]      add a CA to the trust store
 *   lgsp verify RECEIPT.json [--cert PEM] [--body FILE]   check a 202 receipt offline
 *   lgsp log verify [--db FILE | --archive FILE] [--cert PEM]   check the message log (or an archive)
 *   lgsp log export --from ISO --to ISO --out FILE [--db FILE] [--chain NAME]  archive entries, checkpoints, certificates
 *   lgsp log show --message ID [--db FILE]      who sent what: a message's entries, signatures checked again
 *
 * On the Redis store each gateway instance keeps its own log chain: `log verify` checks
 * every chain, `log show` looks in every chain, `log export` needs --chain when there are several.
 *
 * PKI commands use --dir, else the config's pki.dir (./data/pki when there is no config).
 * The operator commands open the store named by the config directly, so they work while
 * the gateway runs (SQLite WAL) and while it is stopped.
 */
import { X509Certificate } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { basename, join } from 'node:path'
import { parseArgs } from 'node:util'
import { Pki, PkiError } from '../certs/pki.js'
import type { KeyKind } from '../certs/x509.js'
import { evidenceOf } from './crypto/evidence.js'
import { GENESIS, readArchive, verifyLog, writeArchive, type Checkpoint, type LogEntry, type LogReport } from './crypto/message-log.js'
import { verifyReceipt, type Receipt } from './crypto/receipts.js'
import { SqliteStore } from './store/sqlite.js'
import { RedisStore } from './store/redis/index.js'
import type { LogRange, Store } from './store/types.js'
import { loadConfig } from './config.js'
import { runDemo } from './demo.js'
import { LgspError } from './errors.js'
import { hashSecret } from './members.js'
import { closeOnSignals, openStore, startGateway } from './server.js'
import { AdapterRegistry } from '../adapters/registry.js'
import { createLogger } from './logger.js'
import { Payments } from './payments.js'
import { Statistics } from './statistics.js'
import { discard as dlqDiscard, replay as dlqReplay, resume as destinationResume } from './cli-dlq.js'
import { vnDate } from './ledger/dates.js'
import { lgspError } from './errors.js'

const usage = `usage: lgsp <start|demo|dlq list|dlq replay ID|dlq discard ID|queues|payments settle|indicators|reconcile|members hash-secret|certs init|certs issue|certs revoke|certs import|certs trust|verify|log verify|log export|log show> [--config FILE]`

const out = (v: unknown): void => { process.stdout.write(`${typeof v === 'string' ? v : JSON.stringify(v, null, 2)}\n`) }

async function withStore<T> (file: string, fn: (store: ReturnType<typeof openStore>) => Promise<T>, db?: string): Promise<T> {
  // --db opens a SQLite file directly (an auditor's copy, the demo's data/lgsp.db), without a config.
  // On Redis the command is an instance of its own, beside the running gateways.
  const store = db === undefined ? openStore(loadConfig(file), undefined, `cli-${hostname()}-${process.pid}`) : new SqliteStore({ path: db, synchronous: 'full' })
  await store.init()
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

async function main (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', default: process.env.LGSP_CONFIG ?? 'lgsp.config.json' },
      destination: { type: 'string' },
      dossier: { type: 'string' },
      limit: { type: 'string', default: '100' },
      reason: { type: 'string' },
      code: { type: 'string' },
      as: { type: 'string' },
      date: { type: 'string', default: vnDate() },
      agency: { type: 'string' },
      period: { type: 'string', default: vnDate().slice(0, 7) },
      drill: { type: 'boolean', default: false },
      repair: { type: 'boolean', default: false },
      dir: { type: 'string' },
      members: { type: 'string' },
      key: { type: 'string', default: 'ec' },
      days: { type: 'string' },
      'password-env': { type: 'string' },
      'trust-issuers': { type: 'boolean', default: false },
      name: { type: 'string' },
      cert: { type: 'string' },
      body: { type: 'string' },
      archive: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string' },
      db: { type: 'string' },
      message: { type: 'string' },
      chain: { type: 'string' }
    }
  })
  const [cmd, sub, arg] = positionals
  const file = values.config
  if (cmd === 'certs') return await certsCommand(sub, positionals.slice(2), values, file)
  if (cmd === 'verify') return verifyCommand(sub, values, file)
  if (cmd === 'log') return await logCommand(sub, values, file)
  switch (`${cmd ?? ''} ${cmd === 'dlq' || cmd === 'members' || cmd === 'payments' || cmd === 'destinations' ? sub ?? '' : ''}`.trim()) {
    case 'start': {
      const gateway = await startGateway(loadConfig(file))
      closeOnSignals(gateway)
      return -1
    }
    case 'demo':
      await runDemo()
      return -1
    case 'dlq list':
      await withStore(file, async (s) => {
        const filter: Parameters<typeof s.listDead>[0] = { limit: Number(values.limit) }
        if (values.destination !== undefined) filter.destination = values.destination
        if (values.dossier !== undefined) filter.maHoSo = values.dossier
        out(await s.listDead(filter))
      })
      return 0
    case 'dlq replay':
    case 'dlq discard': {
      const opts = {
        ...(arg === undefined ? {} : { id: Number(arg) }),
        ...(values.destination === undefined ? {} : { destination: values.destination }),
        ...(values.code === undefined ? {} : { code: values.code }),
        ...(values.dossier === undefined ? {} : { maHoSo: values.dossier }),
        ...(values.reason === undefined ? {} : { reason: values.reason }),
        ...(values.as === undefined ? {} : { operator: values.as })
      }
      const done = await withStore(file, (s) => sub === 'replay' ? dlqReplay(opts, s) : dlqDiscard(opts, s))
      if (arg !== undefined) out(done.found ? `${sub === 'replay' ? 'replayed' : 'discarded'} ${arg}` : `no dead-letter entry ${arg}`)
      else out(done)
      return done.found ? 0 : 1
    }
    case 'destinations resume': {
      if (arg === undefined) { out(usage); return 2 }
      out(await withStore(file, (s) => destinationResume({ destination: arg, ...(values.as === undefined ? {} : { operator: values.as }) }, s)))
      return 0
    }
    case 'queues':
      await withStore(file, async (s) => { out(await s.queueStats()) })
      return 0
    case 'payments settle': {
      const config = loadConfig(file)
      if (config.payments === undefined) throw lgspError('LGSP_ERR_CONFIG_INVALID', 'payments is not configured in this file.')
      const paymentsCfg = config.payments
      await withStore(file, async (store) => {
        // Effects are written to the outbox; the running gateway's workers deliver them.
        const adapters = new AdapterRegistry(config.destinations)
        const payments = new Payments(store, adapters, paymentsCfg, createLogger('warn'), () => {})
        try {
          out({ pass: await payments.settle(), report: await payments.report(values.date) })
        } finally {
          await payments.stop()
          await adapters.close()
        }
      })
      return 0
    }
    case 'indicators':
    case 'reconcile': {
      const config = loadConfig(file)
      if (values.agency === undefined) throw lgspError('LGSP_ERR_INDICATORS_AGENCY')
      const agency = values.agency
      await withStore(file, async (store) => {
        // Repairs go into the shared outbox; the running gateway's workers deliver them.
        const adapters = new AdapterRegistry(config.destinations)
        const stats = new Statistics(store, adapters, config, () => {}, createLogger('warn'))
        try {
          out(cmd === 'indicators' ? await stats.indicators(agency, values.period, values.drill) : await stats.reconcile(agency, values.period, values.repair))
        } finally {
          await adapters.close()
        }
      })
      return 0
    }
    case 'members hash-secret': {
      const chunks: Buffer[] = []
      for await (const c of process.stdin) chunks.push(c as Buffer)
      const secret = Buffer.concat(chunks).toString('utf8').trim()
      if (secret.length < 16) { out('the secret must have at least 16 characters'); return 2 }
      out(hashSecret(secret))
      return 0
    }
    default:
      out(usage)
      return 2
  }
}

type Values = Record<string, string | boolean | undefined>

/** The PKI folder: --dir, else the config's, else the default. */
function pkiOf (values: Values, file: string): Pki {
  if (typeof values.dir === 'string') return new Pki(values.dir)
  return new Pki(existsSync(file) ? loadConfig(file).pki.dir : './data/pki')
}

const keyKind = (v: unknown): KeyKind => {
  if (v !== 'ec' && v !== 'rsa') throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', '--key is ec (ECDSA P-256) or rsa (RSA-2048).')
  return v
}

async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

async function certsCommand (sub: string | undefined, args: string[], values: Values, file: string): Promise<number> {
  const pki = pkiOf(values, file)
  switch (sub) {
    case 'init': {
      const ids = typeof values.members === 'string'
        ? values.members.split(',').map((m) => m.trim()).filter((m) => m !== '')
        : existsSync(file) ? loadConfig(file).members.map((m) => m.id) : []
      pki.init(ids.map((id) => ({ id, kind: keyKind(values.key) })))
      out({ dir: pki.dir, gateway: pki.gateway().chain[0]!.fingerprint256, members: ids })
      return 0
    }
    case 'issue': {
      if (args[0] === undefined) { out(usage); return 2 }
      const id = pki.issueMember(args[0], keyKind(values.key), typeof values.days === 'string' ? { days: Number(values.days) } : {})
      out({ member: args[0], serial: id.chain[0]!.serialNumber, validTo: id.chain[0]!.validTo, dir: join(pki.dir, 'members', args[0]) })
      return 0
    }
    case 'revoke':
      if (args[0] === undefined) { out(usage); return 2 }
      out({ revoked: pki.revoke(args[0]), crl: join(pki.dir, 'ca', 'ca.crl.pem') })
      return 0
    case 'import': {
      if (args[0] === undefined || args[1] === undefined) { out(usage); return 2 }
      // The password comes from an environment variable or stdin, never from the command line (ps, shell history).
      const password = typeof values['password-env'] === 'string' ? process.env[values['password-env']] ?? '' : await readStdin()
      const r = pki.importPkcs12(args[0], readFileSync(args[1]), password, { trustIssuers: values['trust-issuers'] === true })
      out({ member: args[0], subject: r.subject, chain: r.chain.length, key: r.key.asymmetricKeyType })
      return 0
    }
    case 'trust': {
      if (args[0] === undefined) { out(usage); return 2 }
      const n = pki.trust(typeof values.name === 'string' ? values.name : basename(args[0]).replace(/\.(pem|crt|cer)$/, ''), readFileSync(args[0], 'utf8'))
      out({ trusted: n, dir: pki.trustDir })
      return 0
    }
    default:
      out(usage)
      return 2
  }
}

/** The gateway certificate an offline check trusts: --cert, else the PKI folder's. */
function gatewayCert (values: Values, file: string): X509Certificate {
  const path = typeof values.cert === 'string' ? values.cert : join(pkiOf(values, file).dir, 'gateway', 'cert.pem')
  return new X509Certificate(readFileSync(path))
}

function verifyCommand (path: string | undefined, values: Values, file: string): number {
  if (path === undefined) { out(usage); return 2 }
  const receipt = JSON.parse(readFileSync(path, 'utf8')) as Receipt & { receipt?: Receipt }
  // A whole 202 reply is accepted too: its receipt is checked.
  const r = receipt.receipt ?? receipt
  const check = verifyReceipt(r, gatewayCert(values, file), typeof values.body === 'string' ? readFileSync(values.body) : undefined)
  out(check.ok ? { ok: true, batched: check.batched, messageId: r.statement.messageId, receivedAt: r.statement.receivedAt, sender: r.statement.sender } : check)
  return check.ok ? 0 : 1
}

const dbOf = (values: Values): string | undefined => typeof values.db === 'string' ? values.db : undefined

/** A store's message-log chains: one in SQLite, one per gateway instance on Redis. */
interface LogChain {
  name: string
  read: (range: LogRange) => Promise<LogEntry[]>
  checkpoints: (fromSeq: number, toSeq: number) => Promise<Checkpoint[]>
}

async function chainsOf (store: Store): Promise<LogChain[]> {
  if (!(store instanceof RedisStore)) return [{ name: 'local', read: (r) => store.readLog(r), checkpoints: (a, b) => store.checkpoints(a, b) }]
  return (await store.chains()).map((name) => ({ name, read: (r) => store.readChain(name, r), checkpoints: (a, b) => store.checkpointsOf(name, a, b) }))
}

async function logCommand (sub: string | undefined, values: Values, file: string): Promise<number> {
  if (sub === 'verify' && typeof values.archive === 'string') {
    const a = readArchive(readFileSync(values.archive, 'utf8'))
    // The auditor's own copy of the gateway certificate, when given, replaces the archive's.
    const certs = typeof values.cert === 'string' ? [gatewayCert(values, file)] : a.certificates
    const report = verifyLog(a.entries, a.checkpoints, certs, a.header.anchor)
    out({ ...report, certificates: certs.map((c) => c.fingerprint256) })
    return report.ok ? 0 : 1
  }
  if (sub === 'verify') {
    const cert = gatewayCert(values, file)
    const reports = await withStore(file, async (s) => {
      const byChain: Record<string, LogReport> = {}
      for (const c of await chainsOf(s)) byChain[c.name] = verifyLog(await c.read({}), await c.checkpoints(0, Number.MAX_SAFE_INTEGER), [cert])
      return byChain
    }, dbOf(values))
    const all = Object.values(reports)
    out(all.length === 1 && reports.local !== undefined ? reports.local : { ok: all.every((r) => r.ok), chains: reports })
    return all.every((r) => r.ok) ? 0 : 1
  }
  if (sub === 'show') {
    const id = typeof values.message === 'string' ? values.message : undefined
    if (id === undefined) { out(usage); return 2 }
    const pki = pkiOf(values, file)
    const trust = existsSync(pki.trustDir) ? pki.trustStore() : undefined
    const entries = await withStore(file, async (s) => (await Promise.all((await chainsOf(s)).map((c) => c.read({ messageId: id })))).flat(), dbOf(values))
    const cert = gatewayCert(values, file)
    out(entries.map((e) => evidenceOf(e, cert, trust)))
    return entries.length > 0 ? 0 : 1
  }
  if (sub === 'export') {
    if (typeof values.out !== 'string') { out(usage); return 2 }
    const from = typeof values.from === 'string' ? Date.parse(values.from) : 0
    const to = typeof values.to === 'string' ? Date.parse(values.to) : Date.now()
    if (Number.isNaN(from) || Number.isNaN(to)) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', '--from and --to are ISO dates or times.')
    const target = values.out
    const written = await withStore(file, async (store) => {
      const chains = await chainsOf(store)
      const s = typeof values.chain === 'string' ? chains.find((c) => c.name === values.chain) : chains.length === 1 ? chains[0] : undefined
      if (s === undefined) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', `Give --chain: one of ${chains.map((c) => c.name).join(', ') || '(none yet)'}.`)
      const entries = await s.read({ fromAt: from, toAt: to })
      const first = entries[0]
      const last = entries[entries.length - 1]
      // Entries up to the first checkpoint after the range, so that every exported entry is under a signature.
      const after = last === undefined ? [] : (await s.checkpoints(last.seq, Number.MAX_SAFE_INTEGER)).slice(0, 1)
      const tail = after[0] === undefined || last === undefined ? [] : await s.read({ fromSeq: last.seq + 1, toSeq: after[0].seq })
      const all = [...entries, ...tail]
      const checkpoints = first === undefined ? [] : await s.checkpoints(first.seq, all[all.length - 1]!.seq)
      const anchor = first === undefined ? GENESIS : first.prevHash
      writeFileSync(target, writeArchive({
        format: 'lgsp-log-archive/v1', createdAt: new Date().toISOString(), anchor, fromSeq: first?.seq ?? null, toSeq: all[all.length - 1]?.seq ?? null,
        certificates: [gatewayCert(values, file).toString()]
      }, all, checkpoints))
      return { entries: all.length, checkpoints: checkpoints.length }
    }, dbOf(values))
    out({ out: target, ...written })
    return 0
  }
  out(usage)
  return 2
}

main(process.argv.slice(2)).then((code) => { if (code >= 0) process.exitCode = code }, (err: unknown) => {
  process.stderr.write(err instanceof LgspError
    ? `lgsp: ${err.code}: ${err.message}\n`
    : err instanceof PkiError ? `lgsp: ${err.message}\n` : `lgsp: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
