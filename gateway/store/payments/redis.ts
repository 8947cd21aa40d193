/**
 * Payments on Redis. Keys: `pay:<reference>` the payment (JSON, with its idempotency key and
 * content hash), `paykey:<key>` the reference a request key created, `paid:<MaHoSo>` the
 * dossier's paid payment, `cb:<key>` the reply sent for a callback, `anom:<key>` an anomaly;
 * sorted sets `pay:all` (by creation), `pay:open` (no result yet), `pay:noeffect` (paid, its
 * effect not recorded), `anomz` (anomalies by reception).
 *
 * A change is read, decided in TypeScript by rules/payments.ts, and written by PAY_SET only if
 * the payment is still as read (compare and set; again otherwise), so the rule runs once,
 * here, and the Lua only persists: it is handed the indexes the rule says the payment belongs to.
 */
import { lgspError } from '../../errors.js'
import type { RedisPort } from '../redis/port.js'
import { replayOrRefuse } from '../rules/idempotency.js'
import { initTransition, paymentIndexes, resultTransition, settlementReport } from '../rules/payments.js'
import type { CallbackAnomaly, NewPayment, Payment, PaymentOutcome, PaymentResult, PaymentStore, SettlementReport } from './types.js'

/**
 * Records a payment once per idempotency key: {1, json} or {0, the first json}; a new payment
 * is `created`, so open. ARGV: prefix, key, reference, json, createdAt.
 */
export const PAY_CREATE = `
local P = ARGV[1]
local ref = redis.call('GET', P .. 'paykey:' .. ARGV[2])
if ref then return { 0, redis.call('GET', P .. 'pay:' .. ref) } end
redis.call('SET', P .. 'paykey:' .. ARGV[2], ARGV[3])
redis.call('SET', P .. 'pay:' .. ARGV[3], ARGV[4])
redis.call('ZADD', P .. 'pay:all', ARGV[5], ARGV[3])
redis.call('ZADD', P .. 'pay:open', ARGV[5], ARGV[3])
return { 1, ARGV[4] }
`

/**
 * Replaces a payment if it is still as read (compare and set), and keeps its indexes as
 * rules/payments.ts paymentIndexes says ('1' in, '0' out): 1 when written.
 * ARGV: prefix, reference, expected json, new json, createdAt, updatedAt, MaHoSo, open, paid, awaiting effect.
 */
export const PAY_SET = `
local P = ARGV[1]
local key = P .. 'pay:' .. ARGV[2]
if redis.call('GET', key) ~= ARGV[3] then return 0 end
redis.call('SET', key, ARGV[4])
if ARGV[8] == '1' then redis.call('ZADD', P .. 'pay:open', ARGV[5], ARGV[2]) else redis.call('ZREM', P .. 'pay:open', ARGV[2]) end
if ARGV[9] == '1' then redis.call('SET', P .. 'paid:' .. ARGV[7], ARGV[2]) end
if ARGV[10] == '1' then redis.call('ZADD', P .. 'pay:noeffect', ARGV[6], ARGV[2]) else redis.call('ZREM', P .. 'pay:noeffect', ARGV[2]) end
return 1
`

interface PaymentRecord extends Payment { idempotencyKey: string, contentHash: string }

const toPayment = ({ idempotencyKey: _k, contentHash: _h, ...p }: PaymentRecord): Payment => p

const flag = (b: boolean): string => b ? '1' : '0'

export class RedisPayments implements PaymentStore {
  readonly #redis: RedisPort

  constructor (redis: RedisPort) {
    this.#redis = redis
  }

  async createPayment (p: NewPayment): Promise<{ created: boolean, payment: Payment }> {
    const record: PaymentRecord = {
      ...p, status: 'created', url: null, transactionCode: null, bank: null, resultAt: null, resultSource: null, updatedAt: p.createdAt, lastQueryAt: null, effectMessageId: null
    }
    const [created, text] = await this.#redis.script('PAY_CREATE', PAY_CREATE, [p.idempotencyKey, p.reference, JSON.stringify(record), p.createdAt]) as [number, string]
    const stored = JSON.parse(text) as PaymentRecord
    if (Number(created) === 1) return { created: true, payment: toPayment(stored) }
    const first = replayOrRefuse({ hash: stored.contentHash, reply: stored }, p.contentHash, 'payment request')!
    return { created: false, payment: toPayment(first) }
  }

  /** Changes a payment with compare-and-set, again if another instance changed it meanwhile. */
  async #update<T> (reference: string, change: (p: PaymentRecord) => { next?: PaymentRecord, result: T }): Promise<T> {
    for (;;) {
      const text = await this.#redis.cmd(['GET', this.#redis.key('pay', reference)]) as string | null
      if (text === null) throw lgspError('LGSP_ERR_PAYMENT_NOT_FOUND')
      const { next, result } = change(JSON.parse(text) as PaymentRecord)
      if (next === undefined) return result
      const index = paymentIndexes(next)
      const ok = await this.#redis.script('PAY_SET', PAY_SET, [reference, text, JSON.stringify(next), next.createdAt, next.updatedAt, next.maHoSo,
        flag(index.open), flag(index.paid), flag(index.awaitingEffect)])
      if (Number(ok) === 1) return result
    }
  }

  async setPaymentInit (reference: string, result: { url: string } | { error: string }, at: number): Promise<void> {
    await this.#update(reference, (p) => {
      const status = initTransition(p.status, result)
      return status === undefined ? { result: undefined } : { next: { ...p, status, url: 'url' in result ? result.url : null, updatedAt: at }, result: undefined }
    })
  }

  async getPayment (reference: string): Promise<Payment | undefined> {
    const text = await this.#redis.cmd(['GET', this.#redis.key('pay', reference)]) as string | null
    return text === null ? undefined : toPayment(JSON.parse(text) as PaymentRecord)
  }

  async paidPaymentOf (maHoSo: string): Promise<Payment | undefined> {
    const ref = await this.#redis.cmd(['GET', this.#redis.key('paid', maHoSo)]) as string | null
    return ref === null ? undefined : await this.getPayment(ref)
  }

  async applyPaymentResult (r: PaymentResult): Promise<{ outcome: PaymentOutcome, payment: Payment }> {
    return await this.#update<{ outcome: PaymentOutcome, payment: Payment }>(r.reference, (before) => {
      const { outcome, status } = resultTransition(before.status, r.success)
      if (status === undefined) return { result: { outcome, payment: toPayment(before) } }
      const next: PaymentRecord = { ...before, status, transactionCode: r.transactionCode, bank: r.bank, resultAt: r.resultAt, resultSource: r.source, updatedAt: r.at }
      return { next, result: { outcome, payment: toPayment(next) } }
    })
  }

  async callbackReply (key: string): Promise<unknown> {
    const text = await this.#redis.cmd(['GET', this.#redis.key('cb', key)]) as string | null
    return text === null ? undefined : JSON.parse(text)
  }

  async saveCallbackReply (key: string, _reference: string, reply: unknown, _at: number): Promise<void> {
    await this.#redis.cmd(['SET', this.#redis.key('cb', key), JSON.stringify(reply), 'NX'])
  }

  async recordAnomaly (a: CallbackAnomaly): Promise<void> {
    if (await this.#redis.cmd(['SET', this.#redis.key('anom', a.key), JSON.stringify(a), 'NX']) !== null) await this.#redis.cmd(['ZADD', this.#redis.key('anomz'), a.receivedAt, a.key])
  }

  /** The JSON values at these keys, those that exist, in order. */
  async #values<T> (keys: readonly string[]): Promise<T[]> {
    if (keys.length === 0) return []
    const texts = await this.#redis.cmd(['MGET', ...keys]) as Array<string | null>
    return texts.filter((t): t is string => t !== null).map((t) => JSON.parse(t) as T)
  }

  async #payments (refs: readonly string[]): Promise<Payment[]> {
    return (await this.#values<PaymentRecord>(refs.map((r) => this.#redis.key('pay', r)))).map(toPayment)
  }

  async duePayments (before: number, limit: number): Promise<Payment[]> {
    const refs = await this.#redis.cmd(['ZRANGEBYSCORE', this.#redis.key('pay:open'), '-inf', `(${before}`]) as string[]
    return (await this.#payments(refs)).filter((p) => p.lastQueryAt === null || p.lastQueryAt < before).slice(0, limit)
  }

  async markQueried (reference: string, at: number): Promise<void> {
    await this.#update(reference, (p) => ({ next: { ...p, lastQueryAt: at }, result: undefined }))
  }

  async paymentsAwaitingEffect (limit: number): Promise<Payment[]> {
    return await this.#payments(await this.#redis.cmd(['ZRANGE', this.#redis.key('pay:noeffect'), 0, limit - 1]) as string[])
  }

  async setPaymentEffect (reference: string, messageId: string): Promise<void> {
    await this.#update(reference, (p) => ({ next: { ...p, effectMessageId: messageId }, result: undefined }))
  }

  async settlement (from: number, to: number): Promise<SettlementReport> {
    const payments = await this.#payments(await this.#redis.cmd(['ZRANGEBYSCORE', this.#redis.key('pay:all'), from, `(${to}`]) as string[])
    const keys = await this.#redis.cmd(['ZRANGEBYSCORE', this.#redis.key('anomz'), from, `(${to}`]) as string[]
    return settlementReport(from, to, payments, await this.#values<CallbackAnomaly>(keys.map((k) => this.#redis.key('anom', k))))
  }
}
