/**
 * Jobs on Redis: the pollers' resume points (hash `cursors`), the leases of jobs only one
 * instance runs at a time (`job:<name>`, held by this instance's name and process token), and
 * the credential-attempt counters every instance shares (`att:a:<address>`, `att:c:<member>`,
 * each expiring with its window; gateway/members.ts).
 */
import type { AttemptCounter } from '../../members.js'
import type { RedisPort } from '../redis/port.js'
import { HOLD } from '../redis/scripts.js'
import type { JobStore } from './types.js'

/**
 * Failed credential checks (gateway/members.ts AttemptLimiter), shared by the instances:
 * INCR and, for a key that has no window yet, PEXPIRE, in one atomic step (a crash between
 * them would leave a counter that never expires). ARGV: prefix, windowMs, keys….
 */
export const ATTEMPTS_ADD = `
local P = ARGV[1]
for i = 3, #ARGV do
  local k = P .. 'att:' .. ARGV[i]
  redis.call('INCR', k)
  if redis.call('PTTL', k) < 0 then redis.call('PEXPIRE', k, ARGV[2]) end
end
return 1
`

/** Each counter and the ms left of its window: {n, ms, n, ms, …} (0, 0 for none). ARGV: prefix, keys…. */
export const ATTEMPTS_PEEK = `
local P = ARGV[1]
local out = {}
for i = 2, #ARGV do
  local k = P .. 'att:' .. ARGV[i]
  local ms = redis.call('PTTL', k)
  if ms > 0 then
    out[#out + 1] = tonumber(redis.call('GET', k) or '0')
    out[#out + 1] = ms
  else
    out[#out + 1] = 0
    out[#out + 1] = 0
  end
end
return out
`

export class RedisJobs implements JobStore {
  readonly #redis: RedisPort
  /** Who holds a job lease: this instance's name and this process's token (a restarted process is another holder). */
  readonly #owner: string

  constructor (redis: RedisPort, owner: string) {
    this.#redis = redis
    this.#owner = owner
  }

  async getCursor (key: string): Promise<string | undefined> {
    return (await this.#redis.cmd(['HGET', this.#redis.key('cursors'), key]) as string | null) ?? undefined
  }

  async setCursor (key: string, value: string): Promise<void> {
    await this.#redis.cmd(['HSET', this.#redis.key('cursors'), key, value])
  }

  /** Named lease for a job only one instance runs at a time (pollers, settlement): true while held. */
  async lease (name: string, ttlMs: number): Promise<boolean> {
    return Number(await this.#redis.script('HOLD', HOLD, [`job:${name}`, this.#owner, ttlMs])) === 1
  }

  /** Failed credential checks, counted in Redis so every instance sees every failure (gateway/members.ts). */
  readonly attempts: AttemptCounter = {
    peek: async (keys) => {
      const r = (await this.#redis.script('ATTEMPTS_PEEK', ATTEMPTS_PEEK, [...keys]) as number[]).map(Number)
      return keys.map((_, i) => ({ n: r[2 * i]!, leftMs: r[2 * i + 1]! }))
    },
    add: async (keys, windowMs) => { await this.#redis.script('ATTEMPTS_ADD', ATTEMPTS_ADD, [windowMs, ...keys]) }
  }
}
