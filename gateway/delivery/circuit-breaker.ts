/**
 * A per-destination circuit breaker. After `failureThreshold` consecutive retryable
 * failures the destination is left alone for `openMs`; then one probe goes through
 * (half-open). A successful probe closes the circuit; a failed one reopens it for twice as
 * long, up to `maxOpenMs`. While open, nothing is claimed, so queued units keep their
 * order and their attempt counts.
 */

export interface BreakerSettings {
  failureThreshold: number
  openMs: number
  maxOpenMs: number
}

export const defaultBreakerSettings: BreakerSettings = { failureThreshold: 5, openMs: 5000, maxOpenMs: 60_000 }

export type BreakerState = 'closed' | 'open' | 'half-open'

export class CircuitBreaker {
  readonly #s: BreakerSettings
  #state: BreakerState = 'closed'
  #failures = 0
  #openFor: number
  #openUntil = 0
  #probing = false

  constructor (settings: BreakerSettings = defaultBreakerSettings) {
    this.#s = settings
    this.#openFor = settings.openMs
  }

  get state (): BreakerState { return this.#state }
  /** When an open circuit lets a probe through. */
  get openUntil (): number { return this.#openUntil }

  /** How many units may be started now (0 while open; 1 probe when half-open). */
  allowance (now: number, wanted: number): number {
    if (this.#state === 'open') {
      if (now < this.#openUntil) return 0
      this.#state = 'half-open'
      this.#probing = false
    }
    if (this.#state === 'half-open') {
      if (this.#probing) return 0
      if (wanted > 0) this.#probing = true
      return Math.min(1, wanted)
    }
    return wanted
  }

  onSuccess (): void {
    this.#state = 'closed'
    this.#failures = 0
    this.#probing = false
    this.#openFor = this.#s.openMs
  }

  onFailure (now: number): void {
    this.#failures++
    if (this.#state === 'half-open') {
      this.#openFor = Math.min(this.#s.maxOpenMs, this.#openFor * 2)
      this.#open(now)
    } else if (this.#state === 'closed' && this.#failures >= this.#s.failureThreshold) {
      this.#open(now)
    }
  }

  /** A unit ended without telling anything about the destination's health. */
  onNeutral (): void {
    this.#probing = false
  }

  #open (now: number): void {
    this.#state = 'open'
    this.#probing = false
    this.#openUntil = now + this.#openFor
  }
}
