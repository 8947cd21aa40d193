/**
 * A task run every `intervalMs`, one pass at a time (a slow pass is never overlapped),
 * whose `stop()` waits for the pass under way. Pollers and the settlement job use it.
 * With `exclusive`, several gateway instances on one shared store run the task in one
 * instance at a time: the one holding the store's lease on that name (renewed at each
 * pass; another instance takes over when the holder stops renewing).
 */
import { activityOf } from './activity.js'
import { scrub, type Logger } from './logger.js'
import { metrics } from './metrics.js'
import type { Store } from './store/types.js'

export interface Exclusive {
  store: Pick<Store, 'lease'>
  /** The job's name, the same in every instance (e.g. `poll:gplx`). */
  name: string
}

export class Periodic {
  readonly #intervalMs: number
  readonly #task: () => Promise<unknown>
  readonly #log: Logger
  readonly #what: string
  #timer: NodeJS.Timeout | undefined
  #running: Promise<unknown> | undefined
  readonly #exclusive: Exclusive | undefined

  constructor (what: string, intervalMs: number, task: () => Promise<unknown>, log: Logger, exclusive?: Exclusive) {
    this.#what = what
    this.#exclusive = exclusive
    this.#intervalMs = intervalMs
    const lease = exclusive?.store.lease?.bind(exclusive.store)
    // Counted only when this instance runs the pass (not when another holds the lease).
    task = metrics.job(exclusive?.name ?? what.replaceAll(' ', '-'), task)
    // The lease outlives a few passes, so the holder keeps it; a holder that stopped loses it after that.
    this.#task = lease === undefined ? task : async () => { if (await lease(exclusive!.name, Math.max(3 * intervalMs, 30_000))) await task() }
    this.#log = log
  }

  start (): void {
    if (this.#timer !== undefined) return
    this.#timer = setInterval(() => {
      if (this.#running !== undefined) return
      this.#running = this.#task()
        // The console's "last run" of shared-store jobs (pollers, settlement): gateway/activity.ts.
        .then(() => { if (this.#exclusive !== undefined) activityOf(this.#exclusive.store).job(this.#exclusive.name, true) }, (err: unknown) => {
          if (this.#exclusive !== undefined) activityOf(this.#exclusive.store).job(this.#exclusive.name, false, err instanceof Error ? scrub(err.message) : 'failed')
          this.#log.error({ err }, `${this.#what} failed`)
        })
        .finally(() => { this.#running = undefined })
    }, this.#intervalMs)
    this.#timer.unref()
  }

  async stop (): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running
  }
}
