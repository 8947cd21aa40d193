/**
 * Backpressure: intake refuses a message for a destination whose backlog (units accepted and
 * not yet delivered: pending and in flight, dead letters aside) has reached its bound, with
 * 503 LGSP_ERR_SERVER_BACKLOG and a Retry-After of how long the destination's current drain
 * rate takes to make room. The refusal comes before the message's first write (inside the
 * store's plan), so a repeat of an already accepted message still gets its first answer and
 * nothing already accepted is touched: the queue keeps draining.
 *
 * The backlog is the store's (store.queueStats: on Redis, every instance's), read every
 * `refreshMs` by a timer, off the request's path; units this process accepts meanwhile are
 * added to it, so a burst cannot run far past the bound between two reads.
 */
import type { QueueStats, Store } from '../store/types.js'
import { metrics } from '../metrics.js'

export interface BacklogSettings {
  /** Units per destination (pending + in flight) past which intake for it is refused; 0: no bound. */
  limit: number
  /** Per-destination bounds replacing `limit`. */
  limits?: Record<string, number | undefined>
  /** How often the backlog is read from the store (ms). */
  refreshMs: number
}

/** A destination over its bound and how long to wait (s). */
export interface BacklogFull {
  destination: string
  backlog: number
  limit: number
  retryAfter: number
}

const MAX_RETRY_AFTER_S = 60

export class Backpressure {
  readonly #store: Pick<Store, 'queueStats'>
  readonly #settings: BacklogSettings
  readonly #now: () => number
  /** Per destination: the backlog last read plus what this process accepted since, and the drain rate seen. */
  readonly #queues = new Map<string, { backlog: number, delivered: number, perSecond: number }>()
  #readAt = -Infinity
  #reading: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined

  constructor (store: Pick<Store, 'queueStats'>, settings: BacklogSettings, now: () => number = Date.now) {
    this.#store = store
    this.#settings = settings
    this.#now = now
  }

  #limitOf (destination: string): number {
    return this.#settings.limits?.[destination] ?? this.#settings.limit
  }

  /** Whether any bound is set at all (none: intake never asks). */
  get enabled (): boolean {
    return this.#settings.limit > 0 || Object.values(this.#settings.limits ?? {}).some((n) => n !== undefined && n > 0)
  }

  /** Reads the backlog now and every refreshMs until stop(). */
  start (): void {
    if (this.#timer !== undefined || !this.enabled) return
    void this.refresh()
    this.#timer = setInterval(() => { void this.refresh() }, this.#settings.refreshMs)
    // The reads never keep a process alive on their own.
    this.#timer.unref()
  }

  /** Stops the reads; resolves when a read in progress is done (the store may close after). */
  async stop (): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.#reading
  }

  /** Reads the backlog again (one read at a time); resolves when done. */
  refresh (): Promise<void> {
    this.#reading ??= this.#read().finally(() => { this.#reading = undefined })
    return this.#reading
  }

  async #read (): Promise<void> {
    const at = this.#now()
    let stats: QueueStats[]
    try {
      stats = await this.#store.queueStats()
    } catch {
      // The store is away: intake fails on its own; keep the last figures.
      return
    }
    const elapsed = (at - this.#readAt) / 1000
    for (const q of stats) {
      const before = this.#queues.get(q.destination)
      const perSecond = before === undefined || !Number.isFinite(elapsed) || elapsed <= 0 ? 0 : Math.max(0, q.delivered - before.delivered) / elapsed
      this.#queues.set(q.destination, { backlog: q.pending + q.inflight, delivered: q.delivered, perSecond })
      const limit = this.#limitOf(q.destination)
      metrics.backlog(q.destination, limit > 0 && q.pending + q.inflight >= limit)
    }
    this.#readAt = at
  }

  /** The first of these destinations whose backlog has reached its bound, or undefined; never waits for the store. */
  check (destinations: Iterable<string>): BacklogFull | undefined {
    for (const destination of destinations) {
      const limit = this.#limitOf(destination)
      const q = this.#queues.get(destination)
      if (limit <= 0 || q === undefined || q.backlog < limit) continue
      // Time for the current drain rate to make room for a tenth of the bound (at least 1 s).
      const room = q.backlog - limit + Math.ceil(limit / 10)
      const retryAfter = q.perSecond > 0 ? Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(room / q.perSecond))) : MAX_RETRY_AFTER_S
      metrics.backlogRefused.inc({ destination })
      return { destination, backlog: q.backlog, limit, retryAfter }
    }
    return undefined
  }

  /** Units this process just queued (counted until the next read replaces them with the store's figure). */
  added (destinations: Iterable<string>): void {
    for (const d of destinations) {
      const q = this.#queues.get(d)
      if (q !== undefined) q.backlog++
    }
  }
}
