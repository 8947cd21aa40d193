/**
 * Idempotency keys on Redis: `idem:<key>` holds `<hash>\n<first reply JSON>` and expires on
 * the retention horizon; `idemz` indexes the keys by when they were taken, for an earlier
 * purge. The accept's group commit reads the keys and its COMMIT script takes them
 * (scripts.ts): the script only checks, atomically, that a key is still free (another
 * instance may have taken it since the read) and hands back what it holds; the verdict
 * (replay or conflict) is rules/idempotency.ts, in TypeScript, on that answer.
 */
import type { RedisPort } from '../redis/port.js'
import type { IdempotencyRecord } from '../rules/idempotency.js'
import type { AcceptReply } from '../types.js'

/** A key's value as the COMMIT script stores it. */
export const encodeIdempotency = (hash: string, reply: AcceptReply): string => `${hash}\n${JSON.stringify(reply)}`

export function decodeIdempotency (stored: string): IdempotencyRecord<AcceptReply> {
  const nl = stored.indexOf('\n')
  return { hash: stored.slice(0, nl), reply: JSON.parse(stored.slice(nl + 1)) as AcceptReply }
}

export class RedisIdempotency {
  readonly #redis: RedisPort

  constructor (redis: RedisPort) {
    this.#redis = redis
  }

  /** Keys expire by themselves on the horizon; this removes those older than `olderThan` now. */
  async purge (olderThan: number): Promise<number> {
    const index = this.#redis.key('idemz')
    const keys = await this.#redis.cmd(['ZRANGEBYSCORE', index, '-inf', `(${olderThan}`, 'LIMIT', 0, 10_000]) as string[]
    if (keys.length === 0) return 0
    await this.#redis.cmd(['DEL', ...keys.map((k) => this.#redis.key('idem', k))])
    return Number(await this.#redis.cmd(['ZREM', index, ...keys]))
  }
}
