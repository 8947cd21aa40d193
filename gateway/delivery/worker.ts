/**
 * Drains the outbox of one destination. Up to `concurrency` dossiers are in flight at once
 * (delivery.unitsInFlight: claimed and not yet recorded; the adapter's pool bounds how many
 * of them are at the destination at once);
 * the store only hands out a dossier's oldest undelivered unit, so one dossier's events go
 * out in order while different dossiers go in parallel, and a dossier stuck in retries or
 * in the dead-letter list holds back only itself.
 */
import { performance } from 'node:perf_hooks'
import type { Adapter, DeliveryEffect, DeliveryResult } from '../../adapters/registry.js'
import { outboundTrace, traceparentFor } from '../../adapters/registry.js'
import { isRetryable } from '../errors.js'
import { metrics } from '../metrics.js'
import type { Logger } from '../logger.js'
import type { Completion, OutboxItem, Store } from '../store/types.js'
import { CircuitBreaker, type BreakerSettings, type BreakerState, type BreakerTransition } from './circuit-breaker.js'
import { onFailure, type RetryPolicy } from './retry-policy.js'
import { activityOf } from '../activity.js'
import { scrub } from '../logger.js'

export interface WorkerSettings {
  concurrency: number
  pollIntervalMs: number
  retry: RetryPolicy
  /** `failureThreshold` is the former consecutive-failure rule, still accepted in config files but not used. */
  breaker: BreakerSettings & { failureThreshold?: number }
  /** While paused (credentials refused): how often the credentials are tried again (ms). */
  pauseProbeMs: number
}

/** Why a destination is paused. */
export interface PauseState {
  /** The code of the refusal (LGSP_ERR_DVCQG_LOGIN, LGSP_ERR_UPSTREAM_CREDENTIALS). */
  code: string
  /** The destination's answer, scrubbed. */
  reason: string
  /** The setting to fix (config key and env var). */
  fix: string
  /** When it paused (ISO 8601). */
  since: string
  /** Probes tried since. */
  probes: number
}

/** The store cursor an operator's `resume` writes (the CLI reaches the worker through the store). */
export const resumeCursor = (destination: string): string => `delivery.resume.${destination}`

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
  /** Set while the destination is paused because it refused the gateway's credentials. */
  paused: PauseState | null
}

export class DestinationWorker {
  readonly destination: string
  readonly #store: Store
  readonly #adapter: Adapter
  readonly #settings: WorkerSettings
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
  #paused: (PauseState & { at: number, nextProbeAt: number }) | undefined
  #probing = false

  constructor (store: Store, adapter: Adapter, settings: WorkerSettings, log: Logger) {
    this.destination = adapter.destination
    this.#store = store
    this.#adapter = adapter
    this.#settings = settings
    this.#log = log.child({ destination: adapter.destination })
    const { failureThreshold, ...breaker } = settings.breaker
    if (failureThreshold !== undefined) this.#log.warn({ failureThreshold }, 'delivery.breaker.failureThreshold is no longer used: the breaker opens on the failure rate of its window (windowSize, minimumCalls, failureRateThreshold)')
    this.#breaker = new CircuitBreaker(breaker, (t) => this.#onBreaker(t))
  }

  #onBreaker (t: BreakerTransition): void {
    const fields = { from: t.from, to: t.to, failureRate: Math.round(t.failureRate * 1000) / 1000, ...(t.openMs === undefined ? {} : { openMs: t.openMs }) }
    if (t.to === 'open') this.#log.warn(fields, 'circuit opened: deliveries to this destination stop for a while')
    else if (t.to === 'half-open') this.#log.warn(fields, 'circuit half-open: probing the destination')
    else this.#log.warn(fields, 'circuit closed: deliveries flow again')
  }

  /** Whether the destination is paused (credentials refused). */
  get paused (): PauseState | undefined {
    if (this.#paused === undefined) return undefined
    const { at: _at, nextProbeAt: _next, ...state } = this.#paused
    return state
  }

  /** Resumes a paused destination (an operator's command, or a probe that went through); false when it was not paused. */
  resume (by: string): boolean {
    const p = this.#paused
    if (p === undefined) return false
    this.#paused = undefined
    this.#log.warn({ by, code: p.code, pausedMs: Date.now() - p.at, probes: p.probes }, 'destination resumed')
    this.notify()
    return true
  }

  #pause (result: Extract<DeliveryResult, { ok: false }>, fix: string, now: number): void {
    if (this.#paused !== undefined) return
    this.#paused = { code: result.code, reason: result.message, fix, since: new Date(now).toISOString(), probes: 0, at: now, nextProbeAt: now + this.#settings.pauseProbeMs }
    // Error level: nothing goes to this destination until someone fixes the setting.
    this.#log.error({ code: result.code, reason: result.message, fix, probeEveryMs: this.#settings.pauseProbeMs }, 'destination paused: it refused the gateway\'s credentials; its queue holds until they work')
  }

  /** While paused: an operator's resume through the store (CLI), then the periodic probe. */
  async #whilePaused (now: number): Promise<void> {
    const p = this.#paused
    if (p === undefined || this.#probing) return
    try {
      const asked = await this.#store.getCursor(resumeCursor(this.destination))
      if (asked !== undefined && Number(asked) >= p.at) {
        this.resume('operator (store)')
        return
      }
    } catch {
      // The store is away: the probe still runs.
    }
    if (now < p.nextProbeAt) return
    p.probes++
    p.nextProbeAt = now + this.#settings.pauseProbeMs
    if (this.#adapter.probe !== undefined) {
      this.#probing = true
      try {
        const r = await this.#adapter.probe()
        if (r.ok) this.resume('probe')
        else this.#log.info({ code: r.code, reason: r.message, probes: p.probes }, 'still paused: the credentials are refused')
      } catch (err) {
        this.#log.error({ err }, 'pause probe threw')
      } finally {
        this.#probing = false
      }
      return
    }
    // No credential check of its own: one queued unit is the probe (its result resumes or not).
    let claimed: OutboxItem[] = []
    try {
      claimed = await this.#store.claim(this.destination, 1, now)
    } catch {
      return
    }
    for (const item of claimed) this.#track(this.#deliver(item))
  }

  #track (work: Promise<void>): void {
    const p: Promise<void> = work.finally(() => {
      this.#inflight.delete(p)
      this.notify()
    })
    this.#inflight.add(p)
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
      failedAttempts: this.#failedAttempts,
      paused: this.paused ?? null
    }
  }

  async #run (): Promise<void> {
    while (this.#running) {
      this.#dirty = false
      const now = Date.now()
      if (this.#paused !== undefined) {
        await this.#whilePaused(now)
        if (this.#paused !== undefined) {
          await this.#sleep(Math.max(1, Math.min(this.#settings.pollIntervalMs, this.#paused.nextProbeAt - now)))
          continue
        }
      }
      const free = this.#breaker.allowance(now, this.#settings.concurrency - this.#inflight.size)
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
        for (const item of claimed) this.#track(this.#deliver(item))
      }
      if (claimed.length > 0 && claimed.length === free) continue
      await this.#sleep(await this.#idleMs(now))
    }
  }

  /** How long to wait when there is nothing to start: until the next due unit, at most the poll interval. */
  async #idleMs (now: number): Promise<number> {
    if (this.#breaker.state === 'open') return Math.max(1, Math.min(this.#settings.pollIntervalMs, this.#breaker.openUntil - now))
    let next: number | undefined
    try {
      next = await this.#store.nextDueAt(this.destination)
    } catch {
      next = undefined
    }
    if (next === undefined) return this.#settings.pollIntervalMs
    return Math.max(1, Math.min(this.#settings.pollIntervalMs, next - Date.now()))
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

  /** One attempt under its trace context: outbound HTTP carries it (adapters/http.ts). */
  async #attempt (item: OutboxItem, traceparent: string): Promise<DeliveryResult> {
    try {
      return await outboundTrace.run({ traceparent, requestId: item.messageId }, () => this.#adapter.deliver({ ...item, traceparent }))
    } catch (err) {
      // An adapter bug, not the destination's answer: retry, and assume it may have gone out.
      this.#log.error({ err, unit: item.id, messageId: item.messageId, op: item.op }, 'adapter threw')
      return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: 'adapter error', uncertain: true }
    }
  }

  /**
   * The destination does not hold the unit's dossier: send the ledger's record first
   * (Adapter.resync), then the unit again. A second "does not exist" is final.
   */
  async #resync (item: OutboxItem, failed: Extract<DeliveryResult, { ok: false }>, traceparent: string): Promise<DeliveryResult> {
    const { resync: _r, ...plain } = failed
    if (this.#adapter.resync === undefined) return plain
    let rows
    try {
      rows = await this.#store.dossierRows([item.maHoSo])
    } catch (err) {
      this.#log.error({ err, unit: item.id, messageId: item.messageId }, 'could not read the dossier to re-sync it')
      return { ...plain, code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE', message: `${plain.message} (re-sync postponed: store unavailable)` }
    }
    const row = rows[0]
    if (row === undefined) return plain
    let synced: DeliveryResult
    try {
      synced = await outboundTrace.run({ traceparent, requestId: item.messageId }, () => this.#adapter.resync!({ ...item, traceparent }, row.record))
    } catch (err) {
      this.#log.error({ err, unit: item.id, messageId: item.messageId }, 'adapter threw on re-sync')
      synced = { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: 'adapter error', uncertain: true }
    }
    const fields = { unit: item.id, messageId: item.messageId, op: item.op, maHoSo: item.maHoSo }
    if (!synced.ok) {
      this.#log.warn({ ...fields, code: synced.code, reason: synced.message }, 'the destination does not hold the dossier and its re-sync failed')
      return { ...synced, message: `re-sync of the dossier: ${synced.message}` }
    }
    this.#log.warn(fields, 'the destination did not hold the dossier: re-synced it from the ledger before this unit')
    // What the re-sync made true is recorded with this unit's completion, whatever the second attempt comes to.
    const again = withEffects(await this.#attempt({ ...item, uncertain: false }, traceparent), synced.effects)
    if (again.ok || again.resync !== true) return again
    const { resync: _again, ...final } = again
    return { ...final, message: `${final.message} (after re-syncing the dossier)` }
  }

  async #deliver (item: OutboxItem): Promise<void> {
    const started = performance.now()
    // The trace of the request that brought the message when it carried one; a new span per attempt.
    const traceparent = traceparentFor(item.messageId, item.traceId)
    const traceId = traceparent.split('-')[1]
    let result = await this.#attempt(item, traceparent)
    if (!result.ok && result.resync === true) result = await this.#resync(item, result, traceparent)
    const elapsed = performance.now() - started
    const ms = Math.round(elapsed)
    const now = Date.now()
    let completion: Completion
    if (result.ok) {
      this.#breaker.onSuccess()
      this.#delivered++
      completion = { id: item.id, outcome: 'delivered', ...(result.note === undefined ? {} : { note: result.note }) }
      this.#log.debug({ unit: item.id, messageId: item.messageId, op: item.op, maHoSo: item.maHoSo, attempts: item.attempts, traceparent, traceId, ms }, 'delivered')
      // A unit that went through while paused was the probe: the credentials work again.
      if (this.#paused !== undefined) this.resume('probe')
    } else if (result.pause !== undefined) {
      // The gateway's own credentials, not this message: the unit waits, the destination pauses.
      this.#failedAttempts++
      this.#pause(result, result.pause.fix, now)
      completion = { id: item.id, outcome: 'retry', nextAt: now, code: result.code, error: result.message, uncertain: result.uncertain }
      this.#log.debug({ unit: item.id, messageId: item.messageId, op: item.op, code: result.code }, 'held: destination paused')
    } else {
      this.#failedAttempts++
      if (this.#paused !== undefined) this.resume('probe')
      // A destination that answered "no" is up: only transport trouble and overload open the circuit.
      if (isRetryable(result.code)) this.#breaker.onFailure(now)
      else this.#breaker.onSuccess()
      completion = onFailure(item.id, item.attempts, result, this.#settings.retry, now)
      const fields = { unit: item.id, messageId: item.messageId, op: item.op, maHoSo: item.maHoSo, attempts: item.attempts, code: result.code, reason: result.message, uncertain: result.uncertain, traceparent, traceId, ms }
      // Error level: a dead letter needs a person (fix the cause, then replay or discard it).
      if (completion.outcome === 'dead') this.#log.error(fields, 'dead-lettered')
      else if (completion.outcome === 'retry') this.#log.info({ ...fields, retryInMs: completion.nextAt - now }, 'delivery failed, will retry')
    }
    if (result.effects !== undefined && result.effects.length > 0) completion = { ...completion, effects: result.effects }
    // Kept with the unit in the same write (the console's dead letters show every attempt).
    completion.attempt = { at: now, attempt: item.attempts, code: result.ok ? null : result.code, message: result.ok ? null : scrub(result.message, 2000), ms, uncertain: !result.ok && result.uncertain }
    metrics.delivery(this.destination, completion.outcome, result.ok ? undefined : result.code, elapsed / 1000)
    // The console's last hour (gateway/activity.ts).
    activityOf(this.#store).attempt(this.destination, { at: now, outcome: completion.outcome, ms, ...(result.ok ? {} : { code: result.code }) })
    try {
      // The completion and the delivery's effects (e.g. "the national portal holds this dossier") in one write.
      await metrics.commit('complete', async () => this.#store.complete([completion]))
    } catch (err) {
      // The unit stays in flight in the store; after a restart it is retried as uncertain.
      this.#log.error({ err, unit: item.id, messageId: item.messageId }, 'could not record a delivery outcome')
    }
  }
}

/** A result carrying, in front of its own, the effects of an earlier step of the same attempt. */
function withEffects (result: DeliveryResult, earlier: readonly DeliveryEffect[] | undefined): DeliveryResult {
  if (earlier === undefined || earlier.length === 0) return result
  return { ...result, effects: [...earlier, ...(result.effects ?? [])] }
}
