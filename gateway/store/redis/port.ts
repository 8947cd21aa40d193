/**
 * What a Redis port (payments/redis.ts, message-log/redis.ts, idempotency/redis.ts) uses of
 * the store's connection: raw commands and scripts on the namespace's slot, and its keys.
 * The store (redis/index.ts) owns the connection and hands this to each port.
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
