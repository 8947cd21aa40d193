/**
 * The delivery side of the gateway: one worker per configured destination.
 */
import type { AdapterRegistry } from '../../adapters/registry.js'
import type { Logger } from '../logger.js'
import type { Store } from '../store/types.js'
import type { GatewayConfig } from '../../schemas/types.js'
import { DestinationWorker, type PauseState, type WorkerStatus } from './worker.js'

export { resumeCursor, type PauseState } from './worker.js'

export class Delivery {
  readonly #workers = new Map<string, DestinationWorker>()
  #started = false

  constructor (store: Store, adapters: AdapterRegistry, config: GatewayConfig, log: Logger) {
    const d = config.delivery
    for (const name of adapters.names) {
      const adapter = adapters.get(name)!
      // The destination's concurrency bounds its connections (adapters/http.ts); the worker holds more
      // units than that, since a unit spends most of its time waiting for store commits, not for the destination.
      const concurrency = Math.max(d.unitsInFlight ?? 256, config.destinations[name]?.concurrency ?? 16)
      this.#workers.set(name, new DestinationWorker(store, adapter, {
        concurrency,
        pollIntervalMs: Math.min(d.pollIntervalMs, store.pollIntervalMs ?? d.pollIntervalMs),
        retry: d.retry,
        breaker: d.breaker,
        pauseProbeMs: d.pauseProbeMs ?? 30_000
      }, log))
    }
  }

  get started (): boolean { return this.#started }

  start (): void {
    this.#started = true
    for (const w of this.#workers.values()) w.start()
  }

  /** Stops claiming; resolves when every unit in flight has finished. */
  async stop (): Promise<void> {
    this.#started = false
    await Promise.all([...this.#workers.values()].map((w) => w.stop()))
  }

  /** Wakes the workers of these destinations (all when none named). */
  notify (destinations?: readonly string[]): void {
    if (!this.#started) return
    for (const [name, w] of this.#workers) if (destinations === undefined || destinations.includes(name)) w.notify()
  }

  status (): WorkerStatus[] {
    return [...this.#workers.values()].map((w) => w.status())
  }

  /** The destinations paused because they refused the gateway's credentials. */
  paused (): Array<PauseState & { destination: string }> {
    const out: Array<PauseState & { destination: string }> = []
    for (const [destination, w] of this.#workers) {
      const p = w.paused
      if (p !== undefined) out.push({ destination, ...p })
    }
    return out
  }

  /** Whether this process runs a worker for the destination. */
  has (destination: string): boolean { return this.#workers.has(destination) }

  /** An operator's resume of a paused destination; false when it was not paused. */
  resume (destination: string, by: string): boolean {
    return this.#workers.get(destination)?.resume(by) ?? false
  }

  /** Whether every worker runs (for /readyz). */
  healthy (): boolean {
    return this.#started && [...this.#workers.values()].every((w) => w.status().running)
  }
}
