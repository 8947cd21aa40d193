/**
 * The dead-letter list and the operator's actions on it, once for every store: which dead
 * units a filter keeps, their order (when they died, then unit id), the cursor that resumes
 * a page after its last entry, what a replay resets, and a destination's queue figures.
 * SQLite says the same filter and order as one SQL range over its partial indexes
 * (dead-letters/sqlite.ts); Redis reads candidates from its sorted sets and applies deadPage.
 */
import { lgspError } from '../../errors.js'
import type { DeadFilter, DeadLetter, QueueStats } from '../dead-letters/types.js'

/** Where the next page of dead letters starts: after this entry (opaque to callers). */
export const deadCursor = (d: Pick<DeadLetter, 'failedAt' | 'id'>): string => `${d.failedAt}.${d.id}`

/** A cursor read back; an invalid one is refused by the caller. */
export function parseDeadCursor (cursor: string): { failedAt: number, id: number } | undefined {
  const m = /^(\d{1,16})\.(\d{1,16})$/.exec(cursor)
  return m === null ? undefined : { failedAt: Number(m[1]), id: Number(m[2]) }
}

/** The filter's `after`, read: undefined when there is none; a cursor this list did not give is a bad parameter. */
export function readDeadCursor (after: string | undefined): { failedAt: number, id: number } | undefined {
  if (after === undefined) return undefined
  const c = parseDeadCursor(after)
  if (c === undefined) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'after is not a cursor this list gave.')
  return c
}

/** The list's order: when the unit died, then its id (units that died in the same millisecond). */
export const deadOrder = (a: Pick<DeadLetter, 'failedAt' | 'id'>, b: Pick<DeadLetter, 'failedAt' | 'id'>): number => a.failedAt - b.failedAt || a.id - b.id

/** Whether a dead letter comes after the cursor in the list's order. */
export const deadAfter = (d: Pick<DeadLetter, 'failedAt' | 'id'>, cursor: { failedAt: number, id: number }): boolean =>
  d.failedAt > cursor.failedAt || (d.failedAt === cursor.failedAt && d.id > cursor.id)

/**
 * Whether a dead letter passes the filter (every field given must match; `from` inclusive,
 * `to` exclusive; after the cursor, which the caller read once with readDeadCursor).
 */
export function deadMatches (d: DeadLetter, filter: DeadFilter & { id?: number }, after: { failedAt: number, id: number } | undefined): boolean {
  return (filter.id === undefined || d.id === filter.id) &&
    (filter.destination === undefined || d.destination === filter.destination) &&
    (filter.maHoSo === undefined || d.maHoSo === filter.maHoSo) &&
    (filter.code === undefined || d.code === filter.code) &&
    (filter.from === undefined || d.failedAt >= filter.from) &&
    (filter.to === undefined || d.failedAt < filter.to) &&
    (after === undefined || deadAfter(d, after))
}

/** The default page size of the list. */
export const DEAD_PAGE = 100

/** One page of the list from candidates read in any order (a superset of it): kept by the filter, in order, at most `limit`. */
export function deadPage (candidates: readonly DeadLetter[], filter: DeadFilter & { id?: number }): DeadLetter[] {
  const after = readDeadCursor(filter.after)
  return candidates.filter((d) => deadMatches(d, filter, after)).sort(deadOrder).slice(0, filter.limit ?? DEAD_PAGE)
}

/**
 * What a replay resets: the unit is pending again, due at once, with a fresh attempt count
 * (its kept attempts stay, so the operator still sees why it died), and no longer dead.
 */
export const replayReset = (now: number): { attempts: number, nextAt: number } => ({ attempts: 0, nextAt: now })

/** One destination's figures; the oldest undelivered unit's age is never negative (clocks of several instances). */
export function queueFigures (destination: string, counts: Partial<Record<'pending' | 'inflight' | 'dead' | 'delivered', number>>, oldestCreatedAt: number | undefined, now: number): QueueStats {
  return {
    destination,
    pending: counts.pending ?? 0,
    inflight: counts.inflight ?? 0,
    dead: counts.dead ?? 0,
    delivered: counts.delivered ?? 0,
    oldestAgeMs: oldestCreatedAt === undefined ? 0 : Math.max(0, now - oldestCreatedAt)
  }
}

/** Every destination's figures, by destination name. */
export const byDestination = (stats: readonly QueueStats[]): QueueStats[] => [...stats].sort((a, b) => a.destination.localeCompare(b.destination))
