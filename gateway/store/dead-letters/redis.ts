/**
 * Dead letters on Redis. A dead unit keeps its hash `u:<id>` (state `dead`) and is indexed by
 * when it died in the sorted sets `dead`, `deadd:<dest>`, `deadc:<code>`, `deaddc:<dest>:<code>`
 * (scripts.ts DEAD, kept by COMPLETE, REPLAY, DISCARD); its attempts are the list `att:<id>`;
 * `stats:<dest>` and `open:<dest>` hold the queue figures. The list's filter, order and cursor,
 * what a replay resets and the queue figures are rules/dead-letters.ts: this file reads
 * candidates, the rules keep and order them, and the scripts only persist.
 */
import type { RedisPort } from '../redis/port.js'
import { destinationsOf, fieldsOf, num, unitOf } from '../redis/port.js'
import { DEAD, PRELUDE } from '../redis/scripts.js'
import { byDestination, DEAD_PAGE, deadPage, queueFigures, readDeadCursor, replayReset } from '../rules/dead-letters.js'
import type { DeadFilter, DeadLetter, DeadLetterStore, DeliveryAttempt, QueueStats } from './types.js'

/**
 * Puts a dead unit back in the queue, reset as rules/dead-letters.ts replayReset says.
 * ARGV: prefix, id, next attempt at, attempts.
 */
export const REPLAY = `${PRELUDE}${DEAD}
local u = P .. 'u:' .. ARGV[2]
local f = redis.call('HMGET', u, 'd', 'p', 'm', 'st', 'ec')
if f[4] ~= 'dead' then return 0 end
redis.call('HSET', u, 'st', 'pending', 'n', ARGV[4], 'nx', ARGV[3], 'fa', '')
deadIndex(false, ARGV[2], f[1], f[5] or '')
redis.call('HINCRBY', P .. 'stats:' .. f[1], 'dead', -1)
redis.call('HINCRBY', P .. 'stats:' .. f[1], 'pending', 1)
push(f[1], f[2], f[3])
return 1
`

/** Drops a dead unit so its dossier's later units flow. ARGV: prefix, id, now, reason. */
export const DISCARD = `${PRELUDE}${DEAD}
local u = P .. 'u:' .. ARGV[2]
local f = redis.call('HMGET', u, 'd', 'st', 'ec')
if f[2] ~= 'dead' then return 0 end
deadIndex(false, ARGV[2], f[1], f[3] or '')
redis.call('HINCRBY', P .. 'stats:' .. f[1], 'dead', -1)
finish(ARGV[2], 'discarded', ARGV[4], tonumber(ARGV[3]))
return 1
`

/**
 * Indexes the dead units an older gateway left (it kept only the 'dead' set), once per
 * namespace. ARGV: prefix.
 */
export const DEAD_BACKFILL = `${PRELUDE}${DEAD}
if redis.call('HSETNX', P .. 'meta', 'deadidx', 1) == 0 then return 0 end
local all = redis.call('ZRANGE', P .. 'dead', 0, -1, 'WITHSCORES')
for i = 1, #all, 2 do
  local f = redis.call('HMGET', P .. 'u:' .. all[i], 'd', 'ec')
  if f[1] then deadIndex(true, all[i], f[1], f[2] or '', all[i + 1]) end
end
return #all / 2
`

export class RedisDeadLetters implements DeadLetterStore {
  readonly #redis: RedisPort

  constructor (redis: RedisPort) {
    this.#redis = redis
  }

  /** Indexes dead units an older gateway left (once per namespace; at start). */
  async backfill (): Promise<void> {
    await this.#redis.script('DEAD_BACKFILL', DEAD_BACKFILL, [])
  }

  /**
   * One page of dead letters in (failedAt, id) order: a range of the sorted set that matches
   * the filter (all, by destination, by code, by both), or, for one dossier, its own queue of
   * units. Members that died in the same millisecond are read together, so the order within
   * them is by id, as on SQLite; deadPage keeps and orders what was read.
   */
  async listDead (filter: DeadFilter): Promise<DeadLetter[]> {
    const limit = filter.limit ?? DEAD_PAGE
    const after = readDeadCursor(filter.after)
    const redis = this.#redis
    if (filter.maHoSo !== undefined) {
      const ids: string[] = []
      for (const destination of filter.destination === undefined ? await destinationsOf(redis) : [filter.destination]) {
        ids.push(...await redis.cmd(['LRANGE', redis.key('dq', destination, filter.maHoSo), 0, -1]) as string[])
      }
      return deadPage(await this.#deadLetters(ids), filter)
    }
    const key = filter.destination !== undefined && filter.code !== undefined
      ? redis.key('deaddc', filter.destination, filter.code)
      : filter.destination !== undefined ? redis.key('deadd', filter.destination) : filter.code !== undefined ? redis.key('deadc', filter.code) : redis.key('dead')
    const to = filter.to === undefined ? '+inf' : `(${filter.to}`
    const resume = after !== undefined && after.failedAt >= (filter.from ?? 0) ? after : undefined
    const range = async (min: string | number, max: string | number, count?: number): Promise<string[]> =>
      await redis.cmd(['ZRANGE', key, min, max, 'BYSCORE', ...count === undefined ? [] : ['LIMIT', 0, count], 'WITHSCORES']) as string[]
    const pairs = (flat: string[]): Array<[string, number]> => flat.flatMap((v, i) => i % 2 === 0 ? [[v, Number(flat[i + 1])] as [string, number]] : [])
    // The millisecond the cursor stopped in, whole; then the next `limit`, completed to the end of their last millisecond.
    const head = resume === undefined ? [] : pairs(await range(resume.failedAt, resume.failedAt))
    let rest = pairs(await range(resume === undefined ? filter.from ?? 0 : `(${resume.failedAt}`, to, limit))
    const last = rest.at(-1)
    if (rest.length === limit && last !== undefined) rest = [...rest.filter(([, at]) => at < last[1]), ...pairs(await range(last[1], last[1]))]
    const ids = [...head, ...rest].filter(([id, at]) => after === undefined || at > after.failedAt || Number(id) > after.id).map(([id]) => id)
    return deadPage(await this.#deadLetters(ids), filter)
  }

  /** The dead letters among these unit ids (read at once; the client pipelines them). */
  async #deadLetters (ids: readonly string[]): Promise<DeadLetter[]> {
    const redis = this.#redis
    const units = await Promise.all(ids.map(async (id) => [id, await unitOf(redis, id)] as const))
    const dead = units.filter((u): u is readonly [string, Record<string, string>] => u[1]?.st === 'dead')
    return await Promise.all(dead.map(async ([id, u]) => ({
      id: Number(id), destination: u.d!, maHoSo: u.m!, messageId: u.msg!, op: u.op!, attempts: num(u.n),
      code: u.ec ?? '', error: u.er ?? '', createdAt: num(u.ca), failedAt: num(u.fa),
      blocked: Math.max(0, Number(await redis.cmd(['LLEN', redis.key('dq', u.d!, u.m!)])) - 1)
    })))
  }

  async deadLetter (id: number): Promise<DeadLetter | undefined> {
    return (await this.#deadLetters([String(id)]))[0]
  }

  async attemptsOf (unit: number): Promise<DeliveryAttempt[]> {
    return (await this.#redis.cmd(['LRANGE', this.#redis.key('att', unit), 0, -1]) as string[]).map((a) => JSON.parse(a) as DeliveryAttempt)
  }

  async replayDead (id: number, now: number): Promise<boolean> {
    const reset = replayReset(now)
    return Number(await this.#redis.script('REPLAY', REPLAY, [id, reset.nextAt, reset.attempts])) === 1
  }

  async discardDead (id: number, now: number, reason: string): Promise<boolean> {
    return Number(await this.#redis.script('DISCARD', DISCARD, [id, now, reason])) === 1
  }

  async queueStats (): Promise<QueueStats[]> {
    const now = Date.now()
    const redis = this.#redis
    return byDestination(await Promise.all((await destinationsOf(redis)).map(async (destination) => {
      const s = fieldsOf(await redis.cmd(['HGETALL', redis.key('stats', destination)]))
      const oldest = await redis.cmd(['ZRANGE', redis.key('open', destination), 0, 0, 'WITHSCORES']) as string[]
      return queueFigures(destination, { pending: num(s.pending), inflight: num(s.inflight), dead: num(s.dead), delivered: num(s.delivered) },
        oldest[1] === undefined ? undefined : Number(oldest[1]), now)
    })))
  }
}
