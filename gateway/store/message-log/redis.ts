/**
 * The message log on Redis: one hash chain per instance (`log:<instance>`, a list of JSON
 * entries, its tip in `logtip:<instance>`), because Lua in Redis has no SHA-256 to extend a
 * shared chain inside the atomic step; protected JWS headers kept once in `jwsh`; signed
 * checkpoints in `cp:<instance>` (sorted by seq). Appends ride the store's group commit
 * (redis/index.ts, scripts.ts COMMIT), which writes what `chainForCommit` prepares.
 */
import { chain, GENESIS, type Checkpoint, type LogAppend, type LogEntry } from '../../crypto/message-log.js'
import type { RedisPort } from '../redis/port.js'
import { restoreSignature, shortenSignature } from './jws-headers.js'
import type { LogRange, MessageLogStore } from './types.js'

export type Tip = { seq: number, hash: string }

const parseTip = (t: string): Tip => {
  const [seq, hash] = t.split(' ')
  return { seq: Number(seq), hash: hash! }
}

/** What the COMMIT script writes for one message's log entries: the fields of its op. */
export interface LogOp {
  /** [hash, header] of protected headers to keep once (HSETNX). */
  headers: string[][]
  /** The entries as stored (JSON, long headers replaced by their hash). */
  log: string[]
  /** The tip the chain must still have, and the one it gets. */
  prev: string
  tip: string
}

/** Chains `items` after `tip` and encodes them for the COMMIT script. */
export function chainForCommit (tip: Tip, items: readonly LogAppend[]): { entries: LogEntry[], op: LogOp, next: Tip } {
  const entries = chain(tip, items)
  const headers: string[][] = []
  const log = entries.map((e) => {
    const s = shortenSignature(e.signature)
    if (s.header !== undefined) headers.push([s.header.hash, s.header.text])
    return JSON.stringify({ ...e, signature: s.stored })
  })
  const next = entries.length > 0 ? { seq: entries.at(-1)!.seq, hash: entries.at(-1)!.hash } : tip
  return { entries, op: { headers, log, prev: `${tip.seq} ${tip.hash}`, tip: `${next.seq} ${next.hash}` }, next }
}

/** The reading side of the log, and checkpoints; appends go through the store's group commit. */
export class RedisMessageLog implements Omit<MessageLogStore, 'appendLog'> {
  readonly #redis: RedisPort

  constructor (redis: RedisPort) {
    this.#redis = redis
  }

  async logTip (): Promise<Tip> {
    const t = await this.#redis.cmd(['GET', this.#redis.key('logtip', this.#redis.instance)]) as string | null
    return t === null ? { seq: 0, hash: GENESIS } : parseTip(t)
  }

  /** The message-log chains in this namespace (one per instance that ever wrote). */
  async chains (): Promise<string[]> {
    return ((await this.#redis.cmd(['SMEMBERS', this.#redis.key('chains')])) as string[]).sort()
  }

  /** Another instance's chain (for lgsp log verify/export/show). */
  async readChain (chainName: string, range: LogRange): Promise<LogEntry[]> {
    const key = this.#redis.key('log', chainName)
    const from = Math.max(1, range.fromSeq ?? 1)
    const to = range.toSeq ?? Number(await this.#redis.cmd(['LLEN', key]))
    const raw: string[] = []
    for (let s = from; s <= to; s += 10_000) raw.push(...(await this.#redis.cmd(['LRANGE', key, s - 1, Math.min(to, s + 9_999) - 1]) as string[]))
    let entries = raw.map((r) => JSON.parse(r) as LogEntry)
    if (range.fromAt !== undefined) entries = entries.filter((e) => e.at >= range.fromAt!)
    if (range.toAt !== undefined) entries = entries.filter((e) => e.at <= range.toAt!)
    if (range.messageId !== undefined) entries = entries.filter((e) => e.messageId === range.messageId)
    const hashes = [...new Set(entries.flatMap((e) => e.signature?.startsWith('~') === true ? [e.signature.slice(1, 65)] : []))]
    const headers = new Map<string, string>()
    if (hashes.length > 0) {
      const got = await this.#redis.cmd(['HMGET', this.#redis.key('jwsh'), ...hashes]) as Array<string | null>
      hashes.forEach((h, i) => { if (got[i] !== null) headers.set(h, got[i]!) })
    }
    return entries.map((e) => ({ ...e, signature: restoreSignature(e.signature, (h) => headers.get(h)) }))
  }

  readLog (range: LogRange): Promise<LogEntry[]> {
    return this.readChain(this.#redis.instance, range)
  }

  async saveCheckpoint (c: Checkpoint): Promise<void> {
    const key = this.#redis.key('cp', this.#redis.instance)
    await this.#redis.cmd(['ZREMRANGEBYSCORE', key, c.seq, c.seq])
    await this.#redis.cmd(['ZADD', key, c.seq, JSON.stringify(c)])
  }

  checkpoints (fromSeq: number, toSeq: number): Promise<Checkpoint[]> {
    return this.checkpointsOf(this.#redis.instance, fromSeq, toSeq)
  }

  async checkpointsOf (chainName: string, fromSeq: number, toSeq: number): Promise<Checkpoint[]> {
    const raw = await this.#redis.cmd(['ZRANGEBYSCORE', this.#redis.key('cp', chainName), fromSeq, toSeq]) as string[]
    return raw.map((r) => JSON.parse(r) as Checkpoint)
  }
}
