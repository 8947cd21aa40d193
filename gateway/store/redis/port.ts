/**
 * What a Redis port (payments/, message-log/, idempotency/, dead-letters/, jobs/ redis.ts) uses of
 * the store's connection: raw commands and scripts on the namespace's slot, and its keys.
 * The store (redis/index.ts) owns the connection and hands this to each port. Below it, the
 * few reads of delivery units that the store and its ports share.
 */

export type Reply = null | string | number | Reply[]

export interface RedisPort {
  /** One command; an outage becomes LGSP_ERR_SERVER_UNAVAILABLE. */
  cmd: (args: Array<string | number>) => Promise<Reply>
  /** A Lua script by name (loaded once, by SHA); ARGV[1] is the key prefix, then `args`. */
  script: (name: string, body: string, args: Array<string | number>) => Promise<Reply>
  /** The namespaced key of these parts: `{ns}:a:b`. */
  key: (...parts: Array<string | number>) => string
  /** This instance's name (its message-log chain). */
  readonly instance: string
}

/** A number field of a hash (0 when absent or empty). */
export const num = (v: string | undefined): number => v === undefined || v === '' ? 0 : Number(v)

/** A flat [field, value, …] reply as an object. */
export const fieldsOf = (flat: Reply): Record<string, string> => {
  const out: Record<string, string> = {}
  const a = flat as string[]
  for (let i = 0; i + 1 < a.length; i += 2) out[a[i]!] = a[i + 1]!
  return out
}

/** The destinations that ever had a unit (set `dests`), by name. */
export const destinationsOf = async (redis: RedisPort): Promise<string[]> =>
  ((await redis.cmd(['SMEMBERS', redis.key('dests')])) as string[]).sort()

/** A delivery unit's hash `u:<id>` (fields: redis/index.ts header), or undefined when it is gone. */
export async function unitOf (redis: RedisPort, id: number | string): Promise<Record<string, string> | undefined> {
  const u = fieldsOf(await redis.cmd(['HGETALL', redis.key('u', id)]))
  return u.d === undefined ? undefined : u
}
