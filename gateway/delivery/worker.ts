/**
 * Drains the outbox of one destination. Up to `concurrency` dossiers are in flight at once;
 * the store only hands out a dossier's oldest undelivered unit, so one dossier's events go
 * out in order while different dossiers go in parallel, and a dossier stuck in retries or
 * in the dead-letter list holds back only itself.
 */
import { performance } from 'node:perf_hooks'
import type { Adapter, DeliveryResult } from '../../adapters/registry.js'
import { isRetryable } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Completion, OutboxItem, Store } from '../store/types.js'
import { CircuitBreaker, type BreakerSettings, type BreakerState } from './circuit-breaker.js'
import { onFailure, type RetryPolicy } from './retry-policy.js'
import { activityOf } from '../activity.js'
import { scrub } from '../logger.js'

export interface WorkerSettings {
  concurrency: number
  pollIntervalMs: number
  retry: RetryPolicy
  /** `failureThreshold` is the former consecutive-failure rule, still accepted in config files but not used. */
  breaker: BreakerSettings & { failureThreshold?: number }
}

/** What operators see of a worker. */
export interface WorkerStatus {
  destination: string
  running: boolean
  inflight: number
  breaker: BreakerState
  /** Times the circuit opened since start. */
  breakerOpened: number
  delivered: number
  failedAttempts: number
}

export class DestinationWorker {
  readonly destination: string
  readonly #store: Store
  readonly #adapter: Adapter
  readonly #s: WorkerSettings
  readonly #log: Logger
  readonly #breaker: CircuitBreaker
  readonly #inflight = new Set<Promise<void>>()
  #running = false
  #loop: Promise<void> | undefined
  #dirty = true
  #wake: (() => void) | undefined
  #delivered = 0
  #failedAttempts = 0
  #claimFailing = false

  constructor (store: Store, adapter: Adapter, settings: WorkerSettings, log: Logger) {
    this.destination = adapter.destination
    this.#store = store
    this.#adapter = adapter
    this.#s = settings
    this.#log = log.child({ destination: adapter.destination })
    const { failureThreshold, ...breaker } = settings.breaker
    if (failureThreshold !== undefined) this.#log.warn({ failureThreshold }, 'delivery.breaker.failureThreshold is no longer used: the breaker opens on the failure rate of its window (windowSize, minimumCalls, failureRateThreshold)')
    this.#breaker = new CircuitBreaker(breaker)
  }

  start (): void {
    if (this.#running) return
    this.#running = true
    this.#loop = this.#run().catch((err: unknown) => {
      this.#running = false
      this.#log.error({ err }, 'delivery worker stopped on an error')
    })
  }

  /** Stops claiming and waits for the units in flight to finish. */
  async stop (): Promise<void> {
    this.#running = false
    this.#wake?.()
    await this.#loop
    await Promise.all(this.#inflight)
  }

  /** New work may be due. */
  notify (): void {
    this.#dirty = true
    this.#wake?.()
  }

  status (): WorkerStatus {
    return {
      destination: this.destination,
      running: this.#running,
      inflight: this.#inflight.size,
      breaker: this.#breaker.state,
      breakerOpened: this.#breaker.opened,
      delivered: this.#delivered,
      failedAttempts: this.#failedAttempts
    }
  }

  async #run (): Promise<void> {
    while (this.#running) {
      this.#dirty = false
      const now = Date.now()
      const free = this.#breaker.allowance(now, this.#s.concurrency - this.#inflight.size)
      let claimed: OutboxItem[] = []
      if (free > 0) {
        try {
          claimed = await this.#store.claim(this.destination, free, now)
          if (this.#claimFailing) this.#log.info('claims work again')
          this.#claimFailing = false
        } catch (err) {
          // Once per outage (a shared store away), not once per poll.
          if (!this.#claimFailing) this.#log.error({ err }, 'claim failed')
          this.#claimFailing = true
        }
        // Half-open probes nothing used go back, so the next due units may probe.
        if (claimed.length < free) this.#breaker.release(free - claimed.length)
        for (const item of claimed) {
          const p: Promise<void> = this.#deliver(item).finally(() => {
            this.#inflight.delete(p)
            this.notify()
          })
          this.#inflight.add(p)
        }
      }
      if (claimed.length > 0 && claimed.length === free) continue
      await this.#sleep(await this.#idleMs(now))
    }
  }

  /** How long to wait when there is nothing to start: until the next due unit, at most the poll interval. */
  async #idleMs (now: number): Promise<number> {
    if (this.#breaker.state === 'open') return Math.max(1, Math.min(this.#s.pollIntervalMs, this.#breaker.openUntil - now))
    let next: number | undefined
    try {
      next = await this.#store.nextDueAt(this.destination)
    } catch {
      next = undefined
    }
    if (next === undefined) return this.#s.pollIntervalMs
    return Math.max(1, Math.min(this.#s.pollIntervalMs, next - Date.now()))
  }

  #sleep (ms: number): Promise<void> {
    if (this.#dirty || !this.#running) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#wake = done
    })
  }

  async #deliver (item: OutboxItem): Promise<void> {
    const started = performance.now()
    let result: DeliveryResult
    try {
      result = await this.#adapter.deliver(item)
    } catch (err) {
      // An adapter bug, not the destination's answer: retry, and assume it may have gone out.
      this.#log.error({ err, unit: item.id, op: item.op }, 'adapter threw')
      result = { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: 'adapter error', uncertain: true }
    }
    const ms = Math.round(performance.now() - started)
    const now = Date.now()
    let completion: Completion
    if (result.ok) {
      this.#breaker.onSuccess()
      this.#delivered++
      completion = result.note === undefined ? { id: item.id, outcome: 'delivered' } : { id: item.id, outcome: 'delivered', note: result.note }
      this.#log.debug({ unit: item.id, op: item.op, maHoSo: item.maHoSo, attempts: item.attempts, ms }, 'delivered')
    } else {
      this.#failedAttempts++
      // A destination that answered "no" is up: only transport trouble and overload open the circuit.
      if (isRetryable(result.code)) this.#breaker.onFailure(now)
      else this.#breaker.onSuccess()
      completion = onFailure(item.id, item.attempts, result, this.#s.retry, now)
      const fields = { unit: item.id, op: item.op, maHoSo: item.maHoSo, attempts: item.attempts, code: result.code, reason: result.message, uncertain: result.uncertain, ms }
      if (completion.outcome === 'dead') this.#log.warn(fields, 'dead-lettered')
      else if (completion.outcome === 'retry') this.#log.info({ ...fields, retryInMs: completion.nextAt - now }, 'delivery failed, will retry')
    }
    // The console's last hour and a dead letter's attempts (gateway/activity.ts).
    activityOf(this.#store).attempt(this.destination, item.id, { at: now, attempt: item.attempts, outcome: completion.outcome, ms, ...(result.ok ? {} : { code: result.code, message: scrub(result.message) }) })
    try {
      await this.#store.complete([completion])
      // Dossier sync (Decision 766): DVCQG now holds the dossier.
      if (result.ok && this.#adapter.protocol === 'dvcqg' && item.op === 'dossier') await this.#store.markSynced([item.maHoSo])
    } catch (err) {
      // The unit stays in flight in the store; after a restart it is retried as uncertain.
      this.#log.error({ err, unit: item.id }, 'could not record a delivery outcome')
    }
  }
}
