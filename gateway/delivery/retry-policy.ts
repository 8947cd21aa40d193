/**
 * What to do after a failed attempt: retry later (exponential backoff with jitter) or
 * dead-letter. Retryable failures are network errors, timeouts, 5xx and 429; anything a
 * destination refused on its merits (4xx, business rejection) is permanent.
 */
import { isRetryable } from '../errors.js'
import type { DeliveryResult } from '../../adapters/registry.js'
import type { Completion } from '../store/types.js'

export interface RetryPolicy {
  baseMs: number
  maxMs: number
  /** 0: retry a retryable failure forever. */
  maxAttempts: number
}

/**
 * Delay before attempt `attempts + 1`: base·2^(attempts−1), capped, with "equal jitter"
 * (half fixed, half random) so retries of many units spread out but never come too soon.
 */
export function backoffMs (attempts: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)))
  return Math.round(exp / 2 + random() * (exp / 2))
}

/** Turns an attempt's failure into the completion to record. */
export function onFailure (
  id: number,
  attempts: number,
  result: Extract<DeliveryResult, { ok: false }>,
  policy: RetryPolicy,
  now: number,
  random: () => number = Math.random
): Completion {
  const exhausted = policy.maxAttempts > 0 && attempts >= policy.maxAttempts
  if (!isRetryable(result.code) || exhausted) {
    const error = exhausted && isRetryable(result.code) ? `gave up after ${attempts} attempts: ${result.message}` : result.message
    return { id, outcome: 'dead', code: result.code, error }
  }
  const delay = Math.max(backoffMs(attempts, policy, random), result.retryAfterMs ?? 0)
  return { id, outcome: 'retry', nextAt: now + delay, code: result.code, error: result.message, uncertain: result.uncertain }
}
