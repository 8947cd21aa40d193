/** The jobs port: what pollers and periodic jobs keep in the store (jobs/sqlite.ts, jobs/redis.ts). */
import type { AttemptCounter } from '../../members.js'

/** Resume points, leases of jobs only one instance runs, and the shared credential-attempt counter. */
export interface JobStore {
  /** Failed credential checks shared by the instances (Redis); absent, each process counts its own. */
  readonly attempts?: AttemptCounter
  /** A poller's resume point (e.g. the last DanhSachHoSo sequence read). */
  getCursor (key: string): Promise<string | undefined>
  setCursor (key: string, value: string): Promise<void>
  /**
   * A shared store (several instances): holds or renews a named lease for `ttlMs`, true while
   * this instance holds it. Jobs only one instance may run (pollers, settlement) check it
   * before each pass. Absent on a store only one process uses.
   */
  lease?: (name: string, ttlMs: number) => Promise<boolean>
}
