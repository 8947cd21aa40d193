/**
 * The payment rules, once: which result may move a payment from which status to which, what
 * a callback or a QUERY answer is believed for, when a payment is still open or waits for its
 * effect, and the settlement figures. Pure functions: both stores (payments/sqlite.ts,
 * payments/redis.ts) and gateway/payments.ts call them; the stores only persist.
 *
 *   created ──INIT ok──▶ pending ──success──▶ paid (final)
 *      │  ▲                 │
 *   INIT failed            failure
 *      ▼  │ (INIT again)    ▼
 *   init_failed          failed ──success──▶ paid
 *
 * A result may arrive late or out of order (a callback after the QUERY that settled it, a
 * failure after a success): a success is final, a second success or a failure after it
 * changes nothing, a failure after a failure changes nothing. A lost INIT answer
 * (created / init_failed) may still become paid or failed by a result.
 */
import type { ErrorCode } from '../../errors.js'
import type { CallbackAnomaly, Payment, PaymentOutcome, PaymentStatus, SettlementReport } from '../payments/types.js'

/** Statuses with no result yet (a lost INIT answer included): settlement asks PayGov about them. */
export const OPEN_STATUSES: readonly PaymentStatus[] = ['created', 'pending', 'init_failed']

export const isOpen = (status: PaymentStatus): boolean => OPEN_STATUSES.includes(status)

/**
 * INIT's answer: a URL makes the payment pending, an error init_failed; only from created or
 * init_failed (a repeat of the request tries INIT again). Undefined: nothing changes (a result
 * came first).
 */
export function initTransition (status: PaymentStatus, result: { url: string } | { error: string }): PaymentStatus | undefined {
  if (status !== 'created' && status !== 'init_failed') return undefined
  return 'url' in result ? 'pending' : 'init_failed'
}

/** A result (callback or QUERY): the outcome, and the new status when it changes. */
export function resultTransition (status: PaymentStatus, success: boolean): { outcome: PaymentOutcome, status?: PaymentStatus } {
  // A success is final: neither a later failure nor a second success changes it.
  if (status === 'paid') return { outcome: 'unchanged' }
  if (success) return { outcome: 'paid', status: 'paid' }
  return status === 'failed' ? { outcome: 'unchanged' } : { outcome: 'failed', status: 'failed' }
}

/** Paid, and its effect on the dossier not recorded yet (a crash between the two): settlement applies it. */
export const awaitsEffect = (p: Pick<Payment, 'status' | 'effectMessageId'>): boolean => p.status === 'paid' && p.effectMessageId === null

/**
 * The indexes a payment belongs to, for a store that keeps them itself (Redis): open (for
 * settlement), paid (the dossier's paid payment), awaiting its effect.
 */
export const paymentIndexes = (p: Pick<Payment, 'status' | 'effectMessageId'>): { open: boolean, paid: boolean, awaitingEffect: boolean } =>
  ({ open: isOpen(p.status), paid: p.status === 'paid', awaitingEffect: awaitsEffect(p) })

/** A duplicate callback is the same reference, transaction and result: it gets the first reply. */
export const callbackKey = (c: { reference: string, transactionCode: string, resultCode: string }): string => `${c.reference}|${c.transactionCode}|${c.resultCode}`

/** An anomaly is kept once: MaXacThuc (the callback's checksum) covers every field, so it tells apart anomalies that share reference and transaction. */
export const anomalyKey = (c: { reference: string, transactionCode: string, resultCode: string, checksum: string }): string => `${callbackKey(c)}|${c.checksum}`

/** A QUERY answer whose amount differs is kept once per reference and transaction. */
export const queryAnomalyKey = (reference: string, transactionCode: string): string => `${reference}|${transactionCode}|query`

/** What a callback whose checksum is good says, against the recorded payment. */
export interface CallbackFacts {
  partnerCode: string
  currency: string
  /** NaN when it is not a whole amount. */
  amount: number
}

export type CallbackVerdict<P> =
  | { apply: true, payment: P }
  | { apply: false, code: ErrorCode, anomaly: Pick<CallbackAnomaly, 'kind' | 'detail'> }

/**
 * Whether a callback is believed: a known reference, the province's partner code, the
 * payment's currency and amount. Anything else is refused and kept as an anomaly for the
 * settlement report (an orphan, or a mismatch).
 */
export function judgeCallback<P extends Pick<Payment, 'amount' | 'currency'>> (payment: P | undefined, c: CallbackFacts, partnerCode: string): CallbackVerdict<P> {
  if (payment === undefined) return { apply: false, code: 'LGSP_ERR_CALLBACK_UNKNOWN_REFERENCE', anomaly: { kind: 'orphan', detail: 'no payment with this reference' } }
  if (c.partnerCode !== partnerCode || c.currency !== payment.currency) {
    return { apply: false, code: 'LGSP_ERR_CALLBACK_PARTNER_MISMATCH', anomaly: { kind: 'mismatch', detail: `partner ${c.partnerCode} / currency ${c.currency}` } }
  }
  if (c.amount !== payment.amount) {
    return { apply: false, code: 'LGSP_ERR_CALLBACK_AMOUNT_MISMATCH', anomaly: { kind: 'mismatch', detail: `amount ${c.amount}, expected ${payment.amount}` } }
  }
  return { apply: true, payment }
}

/** A trusted QUERY answer (checksum and reference checked by the client), in the rule's words. */
export interface QueryFacts {
  state: 'success' | 'failed' | 'processing'
  amount: number
}

export type QueryVerdict =
  /** Nothing to apply: still processing, or a failure of a payment PayGov may never have seen. */
  | { apply: false }
  | { apply: false, anomaly: Pick<CallbackAnomaly, 'kind' | 'detail'> }
  | { apply: true, success: boolean }

/** What settlement does with a QUERY answer about a payment with no result. */
export function judgeQueryAnswer (p: Pick<Payment, 'status' | 'amount'>, a: QueryFacts): QueryVerdict {
  if (a.state === 'processing') return { apply: false }
  // INIT's answer was lost: PayGov may never have seen the reference, so only a success counts.
  if (p.status !== 'pending' && a.state !== 'success') return { apply: false }
  if (a.state === 'success' && a.amount !== p.amount) return { apply: false, anomaly: { kind: 'mismatch', detail: `QUERY amount ${a.amount}, expected ${p.amount}` } }
  return { apply: true, success: a.state === 'success' }
}

/** Settlement figures from the payments created in [from, to) and the anomalies received then. */
export function settlementReport (from: number, to: number, payments: readonly Payment[], anomalies: CallbackAnomaly[]): SettlementReport {
  const sum = (items: ReadonlyArray<{ amount: number }>): { count: number, amount: number } =>
    ({ count: items.length, amount: items.reduce((a, p) => a + p.amount, 0) })
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    paid: sum(payments.filter((p) => p.status === 'paid')),
    pending: sum(payments.filter((p) => p.status === 'pending' || p.status === 'created')),
    failed: sum(payments.filter((p) => p.status === 'failed' || p.status === 'init_failed')),
    orphans: sum(anomalies.filter((a) => a.kind === 'orphan')),
    mismatches: sum(anomalies.filter((a) => a.kind === 'mismatch')),
    payments: payments.map((p) => ({ reference: p.reference, maHoSo: p.maHoSo, amount: p.amount, status: p.status, transactionCode: p.transactionCode, resultSource: p.resultSource })),
    anomalies
  }
}
