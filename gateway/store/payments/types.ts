/** The payments port: payments through PayGov, their callbacks and anomalies (payments/sqlite.ts, payments/redis.ts). */

/** One fee line of a payment (whole VND). */
export interface FeeLine {
  TenPhiLePhi: string
  MaPhiLePhi?: string
  LoaiPhiLePhi?: string
  Gia: number
}

export type PaymentStatus = 'created' | 'pending' | 'init_failed' | 'paid' | 'failed'

/** What a payment is for, fixed when it is recorded. */
export interface PaymentTerms {
  /** MaThamChieu: the gateway's reference at PayGov. */
  reference: string
  maHoSo: string
  maTTHC: string
  maDonVi: string
  /** Whole VND: the sum of the fee lines. */
  amount: number
  currency: string
  fees: FeeLine[]
  /** The member that asked for it. */
  sender: string
  createdAt: number
}

/** A payment the gateway asked PayGov for; recorded before PayGov is called. */
export interface Payment extends PaymentTerms {
  status: PaymentStatus
  url: string | null
  /** MaGiaoDich of the confirmed (or last failed) transaction. */
  transactionCode: string | null
  bank: string | null
  /** ThoiGianGD of the result, epoch ms. */
  resultAt: number | null
  /** How the result became known. */
  resultSource: 'callback' | 'query' | null
  updatedAt: number
  lastQueryAt: number | null
  /** The ledger message that carried the payment to the dossier (null until applied). */
  effectMessageId: string | null
}

export interface NewPayment extends PaymentTerms {
  idempotencyKey: string
  contentHash: string
}

/** A payment result, from a callback or a QUERY, applied under the same rules. */
export interface PaymentResult {
  reference: string
  success: boolean
  transactionCode: string
  bank: string | null
  resultAt: number
  source: 'callback' | 'query'
  at: number
}

export type PaymentOutcome =
  /** It became paid (apply the effect). */
  | 'paid'
  /** It became failed. */
  | 'failed'
  /** Nothing changed: already in that state, or a failure after a success (never undone). */
  | 'unchanged'

/** A callback the gateway could not apply, kept for the settlement report. */
export interface CallbackAnomaly {
  kind: 'orphan' | 'mismatch'
  /** Deduplication key (reference|transaction|result). */
  key: string
  reference: string
  transactionCode: string
  amount: number
  resultCode: string
  detail: string
  receivedAt: number
}

/** Settlement figures for payments created in [from, to). */
export interface SettlementReport {
  from: string
  to: string
  paid: { count: number, amount: number }
  pending: { count: number, amount: number }
  failed: { count: number, amount: number }
  orphans: { count: number, amount: number }
  mismatches: { count: number, amount: number }
  payments: Array<Pick<Payment, 'reference' | 'maHoSo' | 'amount' | 'status' | 'transactionCode' | 'resultSource'>>
  anomalies: CallbackAnomaly[]
}

/** Payment state, beside the ledger in the same store. */
export interface PaymentStore {
  /** Records an expected payment; a repeat of its idempotency key returns the first one. */
  createPayment (p: NewPayment): Promise<{ created: boolean, payment: Payment }>
  /** After INIT: pending with the URL, or init_failed (a repeat of the request tries INIT again). */
  setPaymentInit (reference: string, result: { url: string } | { error: string }, at: number): Promise<void>
  getPayment (reference: string): Promise<Payment | undefined>
  /** The payment of a dossier that is paid, if any. */
  paidPaymentOf (maHoSo: string): Promise<Payment | undefined>
  /** Applies a result atomically: a success is final; a failure never undoes it. */
  applyPaymentResult (r: PaymentResult): Promise<{ outcome: PaymentOutcome, payment: Payment }>
  /** The reply sent for a callback, by its deduplication key. */
  callbackReply (key: string): Promise<unknown>
  saveCallbackReply (key: string, reference: string, reply: unknown, at: number): Promise<void>
  /** Keeps an orphan or mismatched callback (once per key). */
  recordAnomaly (a: CallbackAnomaly): Promise<void>
  /**
   * Payments with no result (pending, or whose INIT answer was lost) created before `before`
   * and not queried since `before`.
   */
  duePayments (before: number, limit: number): Promise<Payment[]>
  markQueried (reference: string, at: number): Promise<void>
  /** Paid payments whose effect on the dossier is not recorded yet (a crash between the two). */
  paymentsAwaitingEffect (limit: number): Promise<Payment[]>
  setPaymentEffect (reference: string, messageId: string): Promise<void>
  settlement (from: number, to: number): Promise<SettlementReport>
}
