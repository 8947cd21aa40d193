/**
 * Payments on SQLite: the payments, the replies sent to PayGov's callbacks, and the anomalies
 * kept for the settlement report. Every decision is a rule of rules/payments.ts or
 * rules/idempotency.ts, taken inside the store's group commit (one writer at a time), so a
 * read-decide-write here is atomic.
 */
import type Database from 'better-sqlite3'
import { lgspError } from '../../errors.js'
import { replayOrRefuse } from '../rules/idempotency.js'
import { initTransition, OPEN_STATUSES, resultTransition, settlementReport } from '../rules/payments.js'
import type { CallbackAnomaly, FeeLine, NewPayment, Payment, PaymentOutcome, PaymentResult, PaymentStatus, PaymentStore, SettlementReport } from './types.js'

/** Queues a write for the store's next group commit. */
export type Write = <T>(run: () => T) => Promise<T>

export const paymentsSchema = `
-- version 2: payments through PayGov
CREATE TABLE IF NOT EXISTS payments (
  reference TEXT PRIMARY KEY,
  ma_ho_so TEXT NOT NULL,
  ma_tthc TEXT NOT NULL,
  ma_don_vi TEXT NOT NULL,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  fees TEXT NOT NULL,
  sender TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  content_hash TEXT NOT NULL,
  status TEXT NOT NULL,
  url TEXT,
  transaction_code TEXT,
  bank TEXT,
  result_at INTEGER,
  result_source TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_query_at INTEGER,
  effect_message_id TEXT
);
CREATE INDEX IF NOT EXISTS payments_dossier ON payments (ma_ho_so);
CREATE INDEX IF NOT EXISTS payments_status ON payments (status, created_at);
CREATE TABLE IF NOT EXISTS payment_callbacks (
  key TEXT PRIMARY KEY,
  reference TEXT NOT NULL,
  reply TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS payment_anomalies (
  key TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  reference TEXT NOT NULL,
  transaction_code TEXT NOT NULL,
  amount INTEGER NOT NULL,
  result_code TEXT NOT NULL,
  detail TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
`

interface PaymentRecord {
  reference: string
  ma_ho_so: string
  ma_tthc: string
  ma_don_vi: string
  amount: number
  currency: string
  fees: string
  sender: string
  idempotency_key: string
  content_hash: string
  status: PaymentStatus
  url: string | null
  transaction_code: string | null
  bank: string | null
  result_at: number | null
  result_source: 'callback' | 'query' | null
  created_at: number
  updated_at: number
  last_query_at: number | null
  effect_message_id: string | null
}

const toPayment = (r: PaymentRecord): Payment => ({
  reference: r.reference,
  maHoSo: r.ma_ho_so,
  maTTHC: r.ma_tthc,
  maDonVi: r.ma_don_vi,
  amount: r.amount,
  currency: r.currency,
  fees: JSON.parse(r.fees) as FeeLine[],
  sender: r.sender,
  status: r.status,
  url: r.url,
  transactionCode: r.transaction_code,
  bank: r.bank,
  resultAt: r.result_at,
  resultSource: r.result_source,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastQueryAt: r.last_query_at,
  effectMessageId: r.effect_message_id
})

/** The open statuses (rules/payments.ts OPEN_STATUSES) as an SQL list. */
const OPEN_SQL = OPEN_STATUSES.map((s) => `'${s}'`).join(', ')

const statements = (db: Database.Database) => ({
  get: db.prepare<[string], PaymentRecord>('SELECT * FROM payments WHERE reference = ?'),
  byKey: db.prepare<[string], PaymentRecord>('SELECT * FROM payments WHERE idempotency_key = ?'),
  paidOf: db.prepare<[string], PaymentRecord>("SELECT * FROM payments WHERE ma_ho_so = ? AND status = 'paid' LIMIT 1"),
  put: db.prepare(`INSERT INTO payments (reference, ma_ho_so, ma_tthc, ma_don_vi, amount, currency, fees, sender, idempotency_key, content_hash, status, created_at, updated_at)
    VALUES (@reference, @maHoSo, @maTTHC, @maDonVi, @amount, @currency, @fees, @sender, @idempotencyKey, @contentHash, 'created', @createdAt, @createdAt)`),
  init: db.prepare('UPDATE payments SET status = @status, url = @url, updated_at = @at WHERE reference = @reference'),
  result: db.prepare(`UPDATE payments SET status = @status, transaction_code = @transactionCode, bank = @bank, result_at = @resultAt,
    result_source = @source, updated_at = @at WHERE reference = @reference`),
  queried: db.prepare('UPDATE payments SET last_query_at = ? WHERE reference = ?'),
  due: db.prepare<[number, number, number], PaymentRecord>(`SELECT * FROM payments WHERE status IN (${OPEN_SQL}) AND created_at < ?
    AND (last_query_at IS NULL OR last_query_at < ?) ORDER BY created_at LIMIT ?`),
  // rules/payments.ts awaitsEffect, as the query that finds them.
  awaiting: db.prepare<[number], PaymentRecord>("SELECT * FROM payments WHERE status = 'paid' AND effect_message_id IS NULL ORDER BY updated_at LIMIT ?"),
  effect: db.prepare('UPDATE payments SET effect_message_id = ? WHERE reference = ?'),
  inRange: db.prepare<[number, number], PaymentRecord>('SELECT * FROM payments WHERE created_at >= ? AND created_at < ? ORDER BY created_at'),
  callbackGet: db.prepare<[string], { reply: string }>('SELECT reply FROM payment_callbacks WHERE key = ?'),
  callbackPut: db.prepare('INSERT OR IGNORE INTO payment_callbacks (key, reference, reply, received_at) VALUES (?, ?, ?, ?)'),
  anomalyPut: db.prepare(`INSERT OR IGNORE INTO payment_anomalies (key, kind, reference, transaction_code, amount, result_code, detail, received_at)
    VALUES (@key, @kind, @reference, @transactionCode, @amount, @resultCode, @detail, @receivedAt)`),
  anomaliesInRange: db.prepare<[number, number], { key: string, kind: 'orphan' | 'mismatch', reference: string, transaction_code: string, amount: number, result_code: string, detail: string, received_at: number }>(
    'SELECT * FROM payment_anomalies WHERE received_at >= ? AND received_at < ? ORDER BY received_at')
})

export class SqlitePayments implements PaymentStore {
  readonly #write: Write
  readonly #statements: ReturnType<typeof statements>

  /** After the schema exists (paymentsSchema). */
  constructor (db: Database.Database, write: Write) {
    this.#write = write
    this.#statements = statements(db)
  }

  createPayment (p: NewPayment): Promise<{ created: boolean, payment: Payment }> {
    return this.#write(() => {
      const seen = this.#statements.byKey.get(p.idempotencyKey)
      const first = replayOrRefuse(seen === undefined ? undefined : { hash: seen.content_hash, reply: seen }, p.contentHash, 'payment request')
      if (first !== undefined) return { created: false, payment: toPayment(first) }
      this.#statements.put.run({ ...p, fees: JSON.stringify(p.fees) })
      return { created: true, payment: toPayment(this.#statements.get.get(p.reference)!) }
    })
  }

  setPaymentInit (reference: string, result: { url: string } | { error: string }, at: number): Promise<void> {
    return this.#write(() => {
      const before = this.#statements.get.get(reference)
      const status = before === undefined ? undefined : initTransition(before.status, result)
      if (status !== undefined) this.#statements.init.run({ reference, at, status, url: 'url' in result ? result.url : null })
    })
  }

  async getPayment (reference: string): Promise<Payment | undefined> {
    const r = this.#statements.get.get(reference)
    return r === undefined ? undefined : toPayment(r)
  }

  async paidPaymentOf (maHoSo: string): Promise<Payment | undefined> {
    const r = this.#statements.paidOf.get(maHoSo)
    return r === undefined ? undefined : toPayment(r)
  }

  applyPaymentResult (r: PaymentResult): Promise<{ outcome: PaymentOutcome, payment: Payment }> {
    return this.#write(() => {
      const before = this.#statements.get.get(r.reference)
      if (before === undefined) throw lgspError('LGSP_ERR_PAYMENT_NOT_FOUND')
      const { outcome, status } = resultTransition(before.status, r.success)
      if (status === undefined) return { outcome, payment: toPayment(before) }
      this.#statements.result.run({ reference: r.reference, status, transactionCode: r.transactionCode, bank: r.bank, resultAt: r.resultAt, source: r.source, at: r.at })
      return { outcome, payment: toPayment(this.#statements.get.get(r.reference)!) }
    })
  }

  async callbackReply (key: string): Promise<unknown> {
    const r = this.#statements.callbackGet.get(key)
    return r === undefined ? undefined : JSON.parse(r.reply)
  }

  saveCallbackReply (key: string, reference: string, reply: unknown, at: number): Promise<void> {
    return this.#write(() => { this.#statements.callbackPut.run(key, reference, JSON.stringify(reply), at) })
  }

  recordAnomaly (a: CallbackAnomaly): Promise<void> {
    return this.#write(() => { this.#statements.anomalyPut.run({ ...a }) })
  }

  async duePayments (before: number, limit: number): Promise<Payment[]> {
    return this.#statements.due.all(before, before, limit).map(toPayment)
  }

  markQueried (reference: string, at: number): Promise<void> {
    return this.#write(() => { this.#statements.queried.run(at, reference) })
  }

  async paymentsAwaitingEffect (limit: number): Promise<Payment[]> {
    return this.#statements.awaiting.all(limit).map(toPayment)
  }

  setPaymentEffect (reference: string, messageId: string): Promise<void> {
    return this.#write(() => { this.#statements.effect.run(messageId, reference) })
  }

  async settlement (from: number, to: number): Promise<SettlementReport> {
    const payments = this.#statements.inRange.all(from, to).map(toPayment)
    const anomalies: CallbackAnomaly[] = this.#statements.anomaliesInRange.all(from, to).map((a) => ({
      kind: a.kind, key: a.key, reference: a.reference, transactionCode: a.transaction_code, amount: a.amount,
      resultCode: a.result_code, detail: a.detail, receivedAt: a.received_at
    }))
    return settlementReport(from, to, payments, anomalies)
  }
}
