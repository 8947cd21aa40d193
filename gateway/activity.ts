/**
 * What the operator console draws: a small in-process recorder of the last hour, per
 * destination and per minute (delivery units intake queued for it, delivery attempts, their
 * outcomes and latency), and the last run of each periodic job (pollers, settlement).
 *
 * It is this process's view: queue depth, the oldest waiting unit, the dead letters and each
 * unit's attempts come from the store (on Redis, the shared truth; attempts are written with
 * each completion), never from here. Memory is bounded: 60 buckets per destination.
 *
 * One recorder per store object (a gateway has one store; tests run several gateways in one
 * process), found with `activityOf(store)`: the delivery worker, intake and the periodic jobs
 * feed it with one call each, without new constructor parameters.
 */

/** One minute of one destination. */
interface Bucket {
  minute: number
  accepted: number
  delivered: number
  failed: number
  dead: number
  latencySum: number
  latencyCount: number
  latencyMax: number
}

/** One delivery attempt as the worker saw it. */
/** A finished delivery attempt, as the last hour's figures count it (the unit's own record is the store's: Store.attemptsOf). */
export interface Attempt {
  at: number
  outcome: 'delivered' | 'retry' | 'dead'
  ms: number
  code?: string
}

/** A periodic job's last pass. */
export interface JobRun {
  name: string
  at: number
  ok: boolean
  runs: number
  failures: number
  error?: string
}

/** Per-minute series over the last hour, oldest first (uPlot's column layout). */
export interface Series {
  /** Minute starts, epoch seconds. */
  t: number[]
  accepted: number[]
  delivered: number[]
  failed: number[]
  /** Mean and worst attempt latency of the minute, ms (null: no attempt). */
  avgMs: Array<number | null>
  maxMs: Array<number | null>
}

const MINUTES = 60

export class Activity {
  readonly #buckets = new Map<string, Bucket[]>()
  readonly #jobs = new Map<string, JobRun>()
  /** Per destination: when the last attempt failed and when the last one succeeded. */
  readonly #last = new Map<string, { failedAt: number, deliveredAt: number, code?: string }>()

  #bucket (destination: string, now: number): Bucket {
    const minute = Math.floor(now / 60_000) * 60_000
    let list = this.#buckets.get(destination)
    if (list === undefined) this.#buckets.set(destination, list = [])
    let b = list[list.length - 1]
    if (b === undefined || b.minute !== minute) {
      b = { minute, accepted: 0, delivered: 0, failed: 0, dead: 0, latencySum: 0, latencyCount: 0, latencyMax: 0 }
      list.push(b)
      while (list.length > MINUTES) list.shift()
    }
    return b
  }

  /** Intake committed delivery units: one destination name per unit. */
  accepted (destinations: readonly string[], now = Date.now()): void {
    for (const d of destinations) this.#bucket(d, now).accepted++
  }

  /** One delivery attempt finished. */
  attempt (destination: string, a: Attempt): void {
    const b = this.#bucket(destination, a.at)
    if (a.outcome === 'delivered') b.delivered++
    else b.failed++
    if (a.outcome === 'dead') b.dead++
    b.latencySum += a.ms
    b.latencyCount++
    b.latencyMax = Math.max(b.latencyMax, a.ms)
    const last = this.#last.get(destination) ?? { failedAt: 0, deliveredAt: 0 }
    if (a.outcome === 'delivered') last.deliveredAt = a.at
    else {
      last.failedAt = a.at
      if (a.code !== undefined) last.code = a.code
    }
    this.#last.set(destination, last)
  }

  /** A periodic job's pass ended. */
  job (name: string, ok: boolean, error?: string, at = Date.now()): void {
    const prev = this.#jobs.get(name)
    const run: JobRun = { name, at, ok, runs: (prev?.runs ?? 0) + 1, failures: (prev?.failures ?? 0) + (ok ? 0 : 1) }
    if (error !== undefined) run.error = error
    this.#jobs.set(name, run)
  }

  jobs (): JobRun[] {
    return [...this.#jobs.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  /** When the destination last failed and last delivered (0: not seen). */
  lastOutcome (destination: string): { failedAt: number, deliveredAt: number, code?: string } {
    return { ...this.#last.get(destination) ?? { failedAt: 0, deliveredAt: 0 } }
  }

  /** The last hour of a destination, one point per minute, empty minutes as zeros. */
  series (destination: string, now = Date.now()): Series {
    const end = Math.floor(now / 60_000) * 60_000
    const byMinute = new Map((this.#buckets.get(destination) ?? []).map((b) => [b.minute, b]))
    const s: Series = { t: [], accepted: [], delivered: [], failed: [], avgMs: [], maxMs: [] }
    for (let i = MINUTES - 1; i >= 0; i--) {
      const minute = end - i * 60_000
      const b = byMinute.get(minute)
      s.t.push(minute / 1000)
      s.accepted.push(b?.accepted ?? 0)
      s.delivered.push(b?.delivered ?? 0)
      s.failed.push(b?.failed ?? 0)
      s.avgMs.push(b === undefined || b.latencyCount === 0 ? null : Math.round(b.latencySum / b.latencyCount))
      s.maxMs.push(b === undefined || b.latencyCount === 0 ? null : b.latencyMax)
    }
    return s
  }
}

const recorders = new WeakMap<object, Activity>()

/** The recorder of a gateway, keyed by its store object. */
export function activityOf (store: object): Activity {
  let a = recorders.get(store)
  if (a === undefined) recorders.set(store, a = new Activity())
  return a
}
