/**
 * A per-destination circuit breaker judged by failure RATE over a count-based sliding
 * window (as resilience4j's COUNT_BASED window): the outcomes of the last `windowSize`
 * calls are kept, and once the window holds `minimumCalls` of them a failure rate at or
 * above `failureRateThreshold` opens the circuit for `openMs`. A destination that fails now
 * and then (an overloaded national system answering 30% of calls with 503) keeps its
 * traffic; one that is down stops being hammered. After `openMs` the circuit is half-open:
 * `halfOpenCalls` probes go through and their own failure rate decides: below the
 * threshold it closes (with a fresh window), otherwise it opens again for twice as long,
 * up to `maxOpenMs`. While open, nothing is claimed, so queued units keep their order and
 * their attempt counts.
 */

/** The breaker's settings (`delivery.breaker` in the config). */
export interface BreakerSettings {
  /** Calls in the sliding window. */
  windowSize: number
  /** Calls the window must hold before the rate can open the circuit. */
  minimumCalls: number
  /** Failure rate (0–1) at or above which the circuit opens. */
  failureRateThreshold: number
  openMs: number
  maxOpenMs: number
  /** Probes let through when half-open. */
  halfOpenCalls: number
}

/** Every default of the breaker in one place (the config schema carries the same values). */
// A window of 100 with a 50% threshold: at 30% random failures the chance that the window
// reaches 50 failures is negligible (about one opening in 40,000 calls in simulation),
// while a destination that is down opens the circuit after `minimumCalls` (20) failures.
export const defaultBreakerSettings: BreakerSettings = { windowSize: 100, minimumCalls: 20, failureRateThreshold: 0.5, openMs: 5000, maxOpenMs: 60_000, halfOpenCalls: 5 }

/** closed: calls flow; open: none; half-open: a few probes. */
export type BreakerState = 'closed' | 'open' | 'half-open'

/** A change of state, for the log: the failure rate that decided it (of the window, or of the half-open probes). */
export interface BreakerTransition {
  from: BreakerState
  to: BreakerState
  failureRate: number
  /** Open: how long until half-open probes (ms). */
  openMs?: number
}

/** One destination's breaker; the worker asks it how many units it may start. */
export class CircuitBreaker {
  readonly #settings: BreakerSettings
  readonly #onTransition: (t: BreakerTransition) => void
  #state: BreakerState = 'closed'
  /** The window: true for a failure, oldest first. */
  readonly #window: boolean[] = []
  #windowFailures = 0
  #openFor: number
  #openUntil = 0
  /** Half-open: probes granted, and their outcomes so far. */
  #granted = 0
  #probeCalls = 0
  #probeFailures = 0
  /** Times the circuit opened (for operators and tests). */
  opened = 0

  constructor (settings: Partial<BreakerSettings> = {}, onTransition: (t: BreakerTransition) => void = () => {}) {
    this.#settings = { ...defaultBreakerSettings, ...settings }
    this.#onTransition = onTransition
    // A window smaller than the minimum could never open the circuit.
    this.#settings.minimumCalls = Math.min(this.#settings.minimumCalls, this.#settings.windowSize)
    this.#openFor = this.#settings.openMs
  }

  get state (): BreakerState { return this.#state }
  /** When an open circuit lets probes through. */
  get openUntil (): number { return this.#openUntil }
  /** The failure rate of the window (0 while it holds no call). */
  get failureRate (): number { return this.#window.length === 0 ? 0 : this.#windowFailures / this.#window.length }

  /** How many units may be started now (0 while open; the probes left when half-open). */
  allowance (now: number, wanted: number): number {
    if (this.#state === 'open') {
      if (now < this.#openUntil) return 0
      this.#state = 'half-open'
      this.#granted = 0
      this.#probeCalls = 0
      this.#probeFailures = 0
      this.#onTransition({ from: 'open', to: 'half-open', failureRate: 0 })
    }
    if (this.#state === 'half-open') {
      const n = Math.max(0, Math.min(wanted, this.#settings.halfOpenCalls - this.#granted))
      this.#granted += n
      return n
    }
    return Math.max(0, wanted)
  }

  /** Gives back probes granted but not used (nothing was due). */
  release (n: number): void {
    if (this.#state === 'half-open') this.#granted = Math.max(this.#probeCalls, this.#granted - n)
  }

  onSuccess (): void {
    this.#record(false, 0)
  }

  onFailure (now: number): void {
    this.#record(true, now)
  }

  #record (failed: boolean, now: number): void {
    // Units started before the circuit opened end while it is open: they say nothing new.
    if (this.#state === 'open') return
    if (this.#state === 'half-open') {
      if (this.#probeCalls >= this.#granted) return
      this.#probeCalls++
      if (failed) this.#probeFailures++
      const n = this.#settings.halfOpenCalls
      const t = this.#settings.failureRateThreshold
      // Decided as soon as the remaining probes cannot change the verdict.
      if (this.#probeFailures / n >= t) {
        this.#openFor = Math.min(this.#settings.maxOpenMs, this.#openFor * 2)
        this.#open(now, this.#probeFailures / this.#probeCalls)
      } else if ((this.#probeFailures + (n - this.#probeCalls)) / n < t) {
        this.#close(this.#probeFailures / this.#probeCalls)
      }
      return
    }
    this.#window.push(failed)
    if (failed) this.#windowFailures++
    if (this.#window.length > this.#settings.windowSize && this.#window.shift() === true) this.#windowFailures--
    if (this.#window.length >= this.#settings.minimumCalls && this.failureRate >= this.#settings.failureRateThreshold) this.#open(now, this.failureRate)
  }

  #close (failureRate: number): void {
    const from = this.#state
    this.#state = 'closed'
    this.#window.length = 0
    this.#windowFailures = 0
    this.#openFor = this.#settings.openMs
    this.#onTransition({ from, to: 'closed', failureRate })
  }

  #open (now: number, failureRate: number): void {
    const from = this.#state
    this.#state = 'open'
    this.opened++
    this.#openUntil = now + this.#openFor
    this.#window.length = 0
    this.#windowFailures = 0
    this.#onTransition({ from, to: 'open', failureRate, openMs: this.#openFor })
  }
}
