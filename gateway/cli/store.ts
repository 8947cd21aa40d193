/** `lgsp queues` and `lgsp dlq …`: the delivery queues, read and changed in the store directly. */
import { hostname } from 'node:os'
import { loadConfig } from '../config.js'
import { openStore } from '../open-store.js'
import type { Store } from '../store/types.js'
import type { Context } from './context.js'

/**
 * Opens the store of the config (or `db`, a SQLite file given with --db: an auditor's copy,
 * the demo's data/lgsp.db) for one command. On Redis the command is an instance of its own.
 */
export async function withStore<T> (file: string, fn: (store: Store) => Promise<T>, db?: string): Promise<T> {
  const store = db === undefined
    ? await openStore(loadConfig(file), undefined, `cli-${hostname()}-${process.pid}`)
    : new (await import('../store/sqlite.js')).SqliteStore({ path: db, synchronous: 'full' })
  await store.init()
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

const positiveId = (v: string | undefined): number | undefined => {
  const id = Number(v)
  return Number.isSafeInteger(id) && id > 0 ? id : undefined
}

export async function queues ({ file, out }: Context): Promise<number> {
  const stats = await withStore(file, (s) => s.queueStats())
  out.result(out.json ? stats : stats.map(({ oldestAgeMs, ...q }) => ({ ...q, oldest: oldestAgeMs === 0 ? '' : `${Math.round(oldestAgeMs / 1000)} s old` })))
  return 0
}

export async function dlqList ({ file, values, out }: Context): Promise<number> {
  const limit = Number(values.limit)
  if (!Number.isSafeInteger(limit) || limit <= 0) { process.stderr.write('lgsp dlq list: --limit is a whole number above 0\n'); return 2 }
  const rows = await withStore(file, async (s) => await s.listDead({
    limit,
    ...(typeof values.destination === 'string' ? { destination: values.destination } : {}),
    ...(typeof values.dossier === 'string' ? { maHoSo: values.dossier } : {})
  }))
  out.result(out.json ? rows : rows.map((r) => ({ id: r.id, destination: r.destination, dossier: r.maHoSo, op: r.op, attempts: r.attempts, code: r.code, failedAt: r.failedAt, blocked: r.blocked, error: r.error })))
  if (!out.json && rows.length > 0) out.say('\nreplay: lgsp dlq replay ID   ·   discard: lgsp dlq discard ID --reason TEXT')
  return 0
}

/**
 * `dlq replay|discard ID`, or every dead letter a filter matches (--destination, --code,
 * --dossier), with a reason; each action is written to the message log with the operator
 * (--as, else cli:<os user>), as the HTTP routes do (gateway/cli-dlq.ts).
 */
async function change ({ file, args, values, out }: Context, kind: 'replay' | 'discard'): Promise<number> {
  const { replay, discard } = await import('../cli-dlq.js')
  const str = (v: unknown): string | undefined => typeof v === 'string' && v !== '' ? v : undefined
  const id = args[0] === undefined ? undefined : positiveId(args[0])
  if (args[0] !== undefined && id === undefined) { process.stderr.write(`lgsp dlq ${kind}: the dead-letter id is a number from 'lgsp dlq list'\n`); return 2 }
  const options = {
    ...(id === undefined ? {} : { id }),
    ...(str(values.destination) === undefined ? {} : { destination: str(values.destination)! }),
    ...(str(values.code) === undefined ? {} : { code: str(values.code)! }),
    ...(str(values.dossier) === undefined ? {} : { maHoSo: str(values.dossier)! }),
    ...(str(values.reason) === undefined ? {} : { reason: str(values.reason)! }),
    ...(str(values.as) === undefined ? {} : { operator: str(values.as)! })
  }
  const done = await withStore(file, (s) => kind === 'replay' ? replay(options, s) : discard(options, s))
  const verb = kind === 'replay' ? 'replayed' : 'discarded'
  if (out.json) out.result(id === undefined ? { [verb]: done.ids.length, ids: done.ids, logMessageId: done.logMessageId ?? null } : { id, [verb]: done.found, logMessageId: done.logMessageId ?? null })
  else if (!done.found) out.say(`no dead-letter entry ${id}`)
  else out.say(`${verb} ${done.ids.length === 1 ? done.ids[0] : `${done.ids.length} dead letters`}${done.logMessageId === undefined ? '' : ` (message log: ${done.logMessageId})`}`)
  return done.found ? 0 : 1
}

export const dlqReplay = (ctx: Context): Promise<number> => change(ctx, 'replay')
export const dlqDiscard = (ctx: Context): Promise<number> => change(ctx, 'discard')

/** `lgsp destinations resume NAME`: the running gateway's paused worker resumes at its next poll. */
export async function destinationsResume ({ file, args, values, out }: Context): Promise<number> {
  const name = args[0]
  if (name === undefined) { process.stderr.write('lgsp destinations resume: give the destination name (from lgsp queues)\n'); return 2 }
  const { resume } = await import('../cli-dlq.js')
  const done = await withStore(file, (s) => resume({ destination: name, ...(typeof values.as === 'string' && values.as !== '' ? { operator: values.as } : {}) }, s))
  if (out.json) out.result(done)
  else out.say(`asked ${name} to resume (message log: ${done.logMessageId})`)
  return 0
}
