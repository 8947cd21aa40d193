/**
 * A task run every `intervalMs`, one pass at a time (a slow pass is never overlapped),
 * whose `stop()` waits for the pass under way. Pollers and the settlement job use it.
 */
import type { Logger } from './logger.js'

export class Periodic {
  readonly #intervalMs: number
  readonly #task: () => Promise<unknown>
  readonly #log: Logger
  readonly #what: string
  #timer: NodeJS.Timeout | undefined
  #running: Promise<unknown> | undefined

  constructor (what: string, intervalMs: number, task: () => Promise<unknown>, log: Logger) {
    this.#what = what
    this.#intervalMs = intervalMs
    this.#task = task
    this.#log = log
  }

  start (): void {
    if (this.#timer !== undefined) return
    this.#timer = setInterval(() => {
      if (this.#running !== undefined) return
      this.#running = this.#task()
        .catch((err: unknown) => this.#log.error({ err }, `${this.#what} failed`))
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
