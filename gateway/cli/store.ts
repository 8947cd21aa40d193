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

async function change ({ file, args, values, out }: Context, kind: 'replay' | 'discard'): Promise<number> {
  const id = positiveId(args[0])
  if (id === undefined) { process.stderr.write(`lgsp dlq ${kind}: give the dead-letter id (a number from 'lgsp dlq list')\n`); return 2 }
  const done = await withStore(file, (s) => kind === 'replay' ? s.replayDead(id, Date.now()) : s.discardDead(id, Date.now(), String(values.reason)))
  if (out.json) out.result({ id, [kind === 'replay' ? 'replayed' : 'discarded']: done })
  else out.say(done ? `${kind === 'replay' ? 'replayed' : 'discarded'} ${id}` : `no dead-letter entry ${id}`)
  return done ? 0 : 1
}

export const dlqReplay = (ctx: Context): Promise<number> => change(ctx, 'replay')
export const dlqDiscard = (ctx: Context): Promise<number> => change(ctx, 'discard')
