/**
 * The idempotency verdict, once for every store and every kind of request (messages and
 * payment requests): a key seen before with the same content replays the first reply; with
 * other content it is refused; an unseen key goes ahead. The stores only read and persist
 * what the key holds; both call this to decide.
 */
import { lgspError, type LgspError } from '../../errors.js'

/** What a key holds once used: the hash a repeat must match, and the first reply. */
export interface IdempotencyRecord<R> {
  hash: string
  reply: R
}

export type IdempotencyVerdict<R> =
  /** The key is unused: go ahead, then keep the hash and the reply under it. */
  | { verdict: 'new' }
  /** Same key, same content: answer with the first reply, write nothing. */
  | { verdict: 'replay', reply: R }
  /** Same key, other content: refused (LGSP_ERR_IDEMPOTENCY_KEY_REUSED). */
  | { verdict: 'conflict' }

/** What the key already holds (undefined: unused) against the hash of this request. */
export function idempotencyVerdict<R> (stored: IdempotencyRecord<R> | undefined, hash: string): IdempotencyVerdict<R> {
  if (stored === undefined) return { verdict: 'new' }
  return stored.hash === hash ? { verdict: 'replay', reply: stored.reply } : { verdict: 'conflict' }
}

/**
 * What a repeat of a message's key must match: its content hash, or, for messages the gateway
 * makes itself (a payment's effect, a repair), the hash it names instead, because a repeat may
 * rebuild the body differently.
 */
export const idempotencyHashOf = (m: { contentHash: string, idempotencyHash?: string | undefined }): string => m.idempotencyHash ?? m.contentHash

export const keyReused = (what: 'message' | 'payment request'): LgspError =>
  lgspError('LGSP_ERR_IDEMPOTENCY_KEY_REUSED', `This Idempotency-Key was already used for a different ${what}; use a new key.`)

/**
 * The verdict as a caller inside a store's atomic step uses it: the first reply for a replay,
 * undefined to go ahead, and a thrown refusal for a conflict (before anything is written).
 */
export function replayOrRefuse<R> (stored: IdempotencyRecord<R> | undefined, hash: string, what: 'message' | 'payment request'): R | undefined {
  const v = idempotencyVerdict(stored, hash)
  if (v.verdict === 'conflict') throw keyReused(what)
  return v.verdict === 'replay' ? v.reply : undefined
}
