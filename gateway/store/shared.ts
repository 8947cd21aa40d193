/**
 * What both stores compute the same way from what they read: a dossier's delivery units as
 * operators see them and the province of an agency. (The payment, idempotency and dead-letter
 * rules are in rules/.)
 */
import type { UnitView } from './types.js'

/** Delivery attempts kept per unit: enough to see a pattern, bounded whatever the retry policy. */
export const ATTEMPTS_KEPT = 20

// The dead-letter cursor moved to rules/dead-letters.ts; still exported here for its callers (console, contract suite).
export { deadCursor, parseDeadCursor } from './rules/dead-letters.js'

/** Hnn of an agency code such as 000.00.01.H56 ('' when it has none). */
export const provinceOf = (agency: string): string => {
  const i = agency.indexOf('.H')
  return i < 0 ? '' : agency.slice(i + 1)
}

export const iso = (ms: number | null): string | null => ms === null ? null : new Date(ms).toISOString()

/** A finished unit (delivered or discarded). */
export interface FinishedUnit { id: number, destination: string, messageId: string, op: string, attempts: number, finishedAt: number, outcome: 'delivered' | 'discarded' }

/** An undelivered unit, in its dossier's order. */
export interface OpenUnit {
  id: number
  destination: string
  messageId: string
  op: string
  state: 'pending' | 'inflight' | 'dead'
  attempts: number
  nextAt: number
  lastErrorCode: string | null
  lastError: string | null
}

/** A dossier's units by destination: the finished ones, then the open ones (those behind a dead unit are blocked). */
export function unitViews (finished: readonly FinishedUnit[], open: readonly OpenUnit[]): Record<string, UnitView[]> {
  const deliveries: Record<string, UnitView[]> = {}
  const push = (dest: string, u: UnitView): void => { (deliveries[dest] ??= []).push(u) }
  for (const d of finished) {
    push(d.destination, {
      id: d.id, messageId: d.messageId, op: d.op, state: d.outcome, attempts: d.attempts,
      lastErrorCode: null, lastError: null, nextAttemptAt: null, deliveredAt: iso(d.finishedAt)
    })
  }
  const deadSeen = new Set<string>()
  for (const o of open) {
    let state: UnitView['state'] = o.state === 'pending' ? (o.attempts > 0 ? 'retrying' : 'pending') : o.state
    if (o.state === 'pending' && deadSeen.has(o.destination)) state = 'blocked'
    if (o.state === 'dead') deadSeen.add(o.destination)
    push(o.destination, {
      id: o.id, messageId: o.messageId, op: o.op, state, attempts: o.attempts,
      lastErrorCode: o.lastErrorCode, lastError: o.lastError,
      nextAttemptAt: o.state === 'pending' ? iso(o.nextAt) : null, deliveredAt: null
    })
  }
  return deliveries
}
