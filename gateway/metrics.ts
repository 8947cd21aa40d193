/**
 * Prometheus metrics (prom-client). Every instrumentation point in the gateway is one call
 * into `metrics` below; nothing else imports prom-client.
 *
 * Counters and histograms live in one process-wide registry, as prom-client's default
 * registry does: a process runs one gateway. Queue figures, dead letters and breaker
 * states are not counted here but read at each scrape (store.queueStats, delivery.status),
 * so on a shared Redis store every instance reports the shared queues, not its own view.
 *
 * Labels are low-cardinality by construction: destination names, member ids, message kinds
 * and error codes come from the config and errors.ts; a MaHoSo, a citizen's name or ID, a
 * URL or a free text never becomes a label.
 */
import { performance } from 'node:perf_hooks'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { BreakerState } from './delivery/circuit-breaker.js'
import type { QueueStats } from './store/types.js'

/** Prometheus' text exposition format, version 0.0.4. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Latency buckets in seconds: intake and store commits are milliseconds, upstream calls up to the timeouts. */
const FAST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300]

/** Breaker states as a gauge value (closed 0, half-open 1, open 2). */
const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 }

/**
 * What the breaker gauges read of a delivery worker (its `status()` has these fields and
 * more). Declared here rather than imported from delivery/worker.ts, which imports this
 * module to count deliveries: the metrics side names only what it reads.
 */
export interface BreakerReading {
  destination: string
  breaker: BreakerState
  /** Times the circuit opened since start. */
  breakerOpened: number
}

/** The code an error is counted under: its lgsp code, or internal for anything else. */
function codeOf (err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('LGSP_ERR_') ? code : 'LGSP_ERR_SERVER_INTERNAL'
}

const seconds = (started: number): number => (performance.now() - started) / 1000

/** The gateway's metrics: one registry, the counters and histograms, and the scrape-time gauges. */
export class Metrics {
  readonly registry = new Registry()
  #defaults = false

  readonly accepted = new Counter({ name: 'lgsp_messages_accepted_total', help: 'Messages accepted (202), by kind and sending member; repeats of an idempotency key are counted in lgsp_messages_replayed_total.', labelNames: ['kind', 'member'] as const, registers: [this.registry] })
  readonly replayed = new Counter({ name: 'lgsp_messages_replayed_total', help: 'Repeats of an already accepted message (same idempotency key), answered with the first reply.', labelNames: ['kind', 'member'] as const, registers: [this.registry] })
  readonly refused = new Counter({ name: 'lgsp_messages_refused_total', help: 'Messages refused at intake, by kind, member and problem code.', labelNames: ['kind', 'member', 'code'] as const, registers: [this.registry] })
  readonly itemsRefused = new Counter({ name: 'lgsp_items_refused_total', help: 'Records or progress entries refused alone inside an accepted message (outcomes[].outcome "refused"), by kind, member and code.', labelNames: ['kind', 'member', 'code'] as const, registers: [this.registry] })
  readonly intakeDuration = new Histogram({ name: 'lgsp_intake_duration_seconds', help: 'Time from a parsed request to its accept reply or refusal (checks, store commit, receipt), by kind and result.', labelNames: ['kind', 'result'] as const, buckets: FAST_BUCKETS, registers: [this.registry] })
  readonly commitDuration = new Histogram({ name: 'lgsp_store_commit_duration_seconds', help: 'Store writes that must commit before the gateway answers or moves on: accept (intake) and complete (a delivery outcome).', labelNames: ['op'] as const, buckets: FAST_BUCKETS, registers: [this.registry] })
  readonly attempts = new Counter({ name: 'lgsp_delivery_attempts_total', help: 'Delivery attempts by destination, outcome (delivered, retry, dead) and error code ("none" when delivered).', labelNames: ['destination', 'outcome', 'code'] as const, registers: [this.registry] })
  readonly upstreamDuration = new Histogram({ name: 'lgsp_upstream_duration_seconds', help: 'Time a destination took to answer a delivery, by destination and whether it succeeded.', labelNames: ['destination', 'result'] as const, buckets: UPSTREAM_BUCKETS, registers: [this.registry] })
  readonly receipts = new Counter({ name: 'lgsp_receipts_total', help: 'Signed receipts handed out in accept replies.', registers: [this.registry] })
  readonly batchSignatures = new Counter({ name: 'lgsp_batch_signatures_total', help: 'Signatures made by the batch signer (one per batch: a single message or a Merkle root).', registers: [this.registry] })
  readonly batchSigned = new Counter({ name: 'lgsp_batch_signed_messages_total', help: 'Messages covered by batch signatures (divided by lgsp_batch_signatures_total: the mean batch size).', registers: [this.registry] })
  readonly batchFailures = new Counter({ name: 'lgsp_batch_signature_failures_total', help: 'Batches whose signature failed (every message of the batch got no receipt).', registers: [this.registry] })
  readonly jobRuns = new Counter({ name: 'lgsp_job_runs_total', help: 'Passes of periodic jobs (pollers poll:<destination> and tax-notices:<destination>, settlement, catalogue sync, reconciliation, checkpoints) run by this instance.', labelNames: ['job'] as const, registers: [this.registry] })
  readonly jobFailures = new Counter({ name: 'lgsp_job_failures_total', help: 'Passes of periodic jobs that ended in an error.', labelNames: ['job'] as const, registers: [this.registry] })
  readonly jobDuration = new Histogram({ name: 'lgsp_job_duration_seconds', help: 'Duration of periodic job passes.', labelNames: ['job'] as const, buckets: JOB_BUCKETS, registers: [this.registry] })
  readonly jobLastSuccess = new Gauge({ name: 'lgsp_job_last_success_timestamp_seconds', help: 'Unix time of the last pass of a periodic job that succeeded.', labelNames: ['job'] as const, registers: [this.registry] })
  readonly indicatorDuration = new Histogram({ name: 'lgsp_indicator_job_duration_seconds', help: 'Indicator computations (Decision 766 figures, period close, reconciliation), by job.', labelNames: ['job'] as const, buckets: JOB_BUCKETS, registers: [this.registry] })

  // Read from the store and the workers at each scrape.
  readonly queueUnits = new Gauge({ name: 'lgsp_queue_units', help: 'Delivery units by destination and state (pending, inflight, dead, delivered), as the store holds them.', labelNames: ['destination', 'state'] as const, registers: [this.registry] })
  readonly oldestPending = new Gauge({ name: 'lgsp_queue_oldest_pending_age_seconds', help: 'Age of the oldest undelivered unit per destination, 0 when none.', labelNames: ['destination'] as const, registers: [this.registry] })
  readonly deadLetters = new Gauge({ name: 'lgsp_dead_letters', help: 'Dead letters waiting for an operator (replay or discard), per destination.', labelNames: ['destination'] as const, registers: [this.registry] })
  readonly breaker = new Gauge({ name: 'lgsp_breaker_state', help: 'Circuit breaker per destination in this instance: 0 closed, 1 half-open, 2 open.', labelNames: ['destination'] as const, registers: [this.registry] })
  readonly breakerOpened = new Gauge({ name: 'lgsp_breaker_opened', help: 'Times the destination\'s circuit opened since this instance started.', labelNames: ['destination'] as const, registers: [this.registry] })
  readonly backlogFull = new Gauge({ name: 'lgsp_backlog_full', help: 'Per destination: 1 while its backlog (pending + inflight) is at its bound (delivery.backlog) and intake for it answers 503 LGSP_ERR_SERVER_BACKLOG, else 0.', labelNames: ['destination'] as const, registers: [this.registry] })
  readonly backlogRefused = new Counter({ name: 'lgsp_backlog_refused_total', help: 'Messages refused at intake because a destination\'s backlog was at its bound, per destination.', labelNames: ['destination'] as const, registers: [this.registry] })
  readonly scrapeErrors = new Counter({ name: 'lgsp_metrics_store_errors_total', help: 'Scrapes whose store read (queue figures) failed; the queue gauges then keep their last values.', registers: [this.registry] })

  /** Node.js process metrics (CPU, memory, event loop lag, GC), once per process. */
  enableDefaults (): void {
    if (this.#defaults) return
    this.#defaults = true
    collectDefaultMetrics({ register: this.registry })
  }

  /** Times one intake call and counts it as accepted, replayed or refused. */
  async intake<T extends { replayed: boolean, reply: { outcomes?: ReadonlyArray<{ outcome: string, code?: string }> } }> (kind: string, member: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now()
    try {
      const result = await work()
      this.intakeDuration.observe({ kind, result: 'accepted' }, seconds(started))
      if (result.replayed) {
        this.replayed.inc({ kind, member })
      } else {
        this.accepted.inc({ kind, member })
        for (const o of result.reply.outcomes ?? []) if (o.outcome === 'refused') this.itemsRefused.inc({ kind, member, code: o.code ?? 'LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION' })
      }
      return result
    } catch (err) {
      this.intakeDuration.observe({ kind, result: 'refused' }, seconds(started))
      this.refused.inc({ kind, member, code: codeOf(err) })
      throw err
    }
  }

  /** Times a store write that must commit. */
  async commit<T> (op: 'accept' | 'complete', work: () => Promise<T>): Promise<T> {
    const end = this.commitDuration.startTimer({ op })
    try {
      return await work()
    } finally {
      end()
    }
  }

  /** One delivery attempt: its outcome as recorded, and how long the destination took. */
  delivery (destination: string, outcome: 'delivered' | 'retry' | 'dead', code: string | undefined, upstreamSeconds: number): void {
    this.attempts.inc({ destination, outcome, code: code ?? 'none' })
    this.upstreamDuration.observe({ destination, result: outcome === 'delivered' ? 'ok' : 'error' }, upstreamSeconds)
  }

  /** A receipt handed out. */
  receipt (): void { this.receipts.inc() }

  /** A batch signature made over `size` messages (or failed). */
  /** A destination's backlog as intake's backpressure last read it (gateway/delivery/backpressure.ts). */
  backlog (destination: string, full: boolean): void {
    this.backlogFull.set({ destination }, full ? 1 : 0)
  }

  batch (size: number, ok: boolean): void {
    if (!ok) {
      this.batchFailures.inc()
      return
    }
    this.batchSignatures.inc()
    this.batchSigned.inc(size)
  }

  /** Wraps a periodic job's pass: runs, failures, duration, last success. */
  job (job: string, task: () => Promise<unknown>): () => Promise<unknown> {
    return async () => {
      const end = this.jobDuration.startTimer({ job })
      this.jobRuns.inc({ job })
      try {
        const out = await task()
        this.jobLastSuccess.set({ job }, Date.now() / 1000)
        return out
      } catch (err) {
        this.jobFailures.inc({ job })
        throw err
      } finally {
        end()
      }
    }
  }

  /** Times an indicator computation. */
  async indicators<T> (job: 'indicators' | 'close' | 'reconcile' | 'reconcile-onestop', work: () => Promise<T>): Promise<T> {
    const end = this.indicatorDuration.startTimer({ job })
    try {
      return await work()
    } finally {
      end()
    }
  }

  /** Sets the scrape-time gauges from the store's queue figures and the workers' breakers. */
  refresh (queues: readonly QueueStats[] | undefined, workers: readonly BreakerReading[]): void {
    if (queues === undefined) {
      this.scrapeErrors.inc()
    } else {
      this.queueUnits.reset()
      this.oldestPending.reset()
      this.deadLetters.reset()
      for (const q of queues) {
        for (const state of ['pending', 'inflight', 'dead', 'delivered'] as const) this.queueUnits.set({ destination: q.destination, state }, q[state])
        this.oldestPending.set({ destination: q.destination }, q.oldestAgeMs / 1000)
        this.deadLetters.set({ destination: q.destination }, q.dead)
      }
    }
    this.breaker.reset()
    this.breakerOpened.reset()
    for (const w of workers) {
      this.breaker.set({ destination: w.destination }, BREAKER_VALUE[w.breaker])
      this.breakerOpened.set({ destination: w.destination }, w.breakerOpened)
    }
  }

  /** The exposition text. */
  async text (): Promise<string> {
    return this.registry.metrics()
  }
}

/** The process's metrics. */
export const metrics = new Metrics()
