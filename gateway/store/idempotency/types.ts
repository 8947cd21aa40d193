/**
 * The idempotency port's public side (idempotency/sqlite.ts, idempotency/redis.ts): keys are
 * taken and read inside the accept's atomic step; operators purge them on the horizon.
 */
export interface IdempotencyStore {
  /** Deletes idempotency records older than the horizon; returns how many. */
  purgeIdempotency (olderThan: number): Promise<number>
}
