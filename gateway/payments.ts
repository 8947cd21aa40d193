/**
 * Online payments through PayGov: payment requests (INIT), result callbacks (IPN),
 * settlement (QUERY), and what a confirmed payment changes.
 *
 * - The expected payment (reference, dossier, amount, fees) is recorded before PayGov is
 *   called; a repeat of the request returns the same reference and URL.
 * - A callback is believed only with a valid checksum, the partner code, currency and
 *   amount of the recorded payment. Repeats get the first reply; a success is final.
 *   Unknown references are kept as orphans and mismatches are kept too, for the report.
 * - A confirmed payment goes into the dossier's ledger (DuocThanhToanTrucTuyen, fees)
 *   through the same accept path as any message, so the DVCQG re-sync and the one-stop
 *   notice ride the outbox with its order and retry guarantees.
 * - Settlement asks PayGov (QUERY) about payments with no result after a while and applies
 *   the answer exactly as a callback.
 */
import type { AdapterRegistry, PaymentNotice } from '../adapters/registry.js'
import { PaygovClient, amountOf, checksumMatches, languages, receiptOf, resultCodes, transactionStates } from '../adapters/paygov/index.js'
import type { GatewayConfig, PaygovCallback, PaymentRequest } from '../schemas/types.js'
import { lgspError, errorTable, type ErrorCode } from './errors.js'
import { uuidv7 } from './ids.js'
import { checkIdempotencyKey, requireKind, sha256, unitsFor } from './intake.js'
import { formatDvcqgDate, parseDvcqgDate } from './ledger/dates.js'
import { planPayment } from './ledger/plan.js'
import type { Logger } from './logger.js'
import { Periodic } from './periodic.js'
import type { Member } from './members.js'
import type { FeeLine, Payment, SettlementReport, Store } from './store/types.js'
import { anomalyKey, callbackKey, judgeCallback, judgeQueryAnswer, queryAnomalyKey, type QueryFacts } from './store/rules/payments.js'
import { checkSchema, validators } from './validation.js'

export type PaymentsConfig = NonNullable<GatewayConfig['payments']>

/** The reply to POST /v1/payments. */
export interface PaymentReply {
  MaThamChieu: string
  MaHoSo: string
  SoTien: number
  MaTienTe: string
  UrlThanhToan: string | null
  status: Payment['status']
}

/** A reply to PayGov's callback, with the HTTP status it goes out with. */
export interface CallbackReply {
  status: number
  body: Record<string, unknown>
}

/** The member that sends effects of payments into the ledger. */
const PAYGOV_SENDER = 'paygov'

/** ThoiGianGD of a payment's INIT, which its QUERY must repeat: the time the payment was recorded. */
const initTime = (p: Pick<Payment, 'createdAt'>): string => formatDvcqgDate(p.createdAt)

/** A non-empty string from a dossier record, else undefined (records carry "" and null for absent values). */
const text = (v: unknown): string | undefined => typeof v === 'string' && v !== '' ? v : undefined

export class Payments {
  readonly #store: Store
  readonly #adapters: AdapterRegistry
  readonly #cfg: PaymentsConfig
  readonly #log: Logger
  readonly #notify: (destinations: readonly string[]) => void
  readonly client: PaygovClient
  readonly #schedule: Periodic

  constructor (store: Store, adapters: AdapterRegistry, cfg: PaymentsConfig, log: Logger, notify: (destinations: readonly string[]) => void) {
    this.#store = store
    this.#adapters = adapters
    this.#cfg = cfg
    this.#log = log.child({ component: 'payments' })
    this.#notify = notify
    this.client = new PaygovClient(cfg)
    this.#schedule = new Periodic('settlement pass', cfg.settlement.intervalMs, () => this.settle(), this.#log, { store, name: 'payments:settlement' })
  }

  // ---- POST /v1/payments -------------------------------------------------------------

  async request (member: Member, body: unknown, raw: string, idempotencyKey: string | undefined, ip: string, signature?: string): Promise<{ replayed: boolean, reply: PaymentReply }> {
    requireKind(member, 'payment')
    checkSchema(validators.paymentRequest, body)
    const req = body as PaymentRequest
    // One-stops send Gia as a number or a numeric string ("135000"); the schema checked the form.
    const fees: FeeLine[] = req.PhiLePhi.map((f) => ({ ...f, Gia: amountOf(f.Gia) ?? Number.NaN }))
    if (fees.some((f) => Number.isNaN(f.Gia))) throw lgspError('LGSP_ERR_REQUEST_INVALID', 'PhiLePhi[].Gia is a whole amount in VND.')
    const amount = fees.reduce((a, f) => a + f.Gia, 0)
    if (amount <= 0) throw lgspError('LGSP_ERR_PAYMENT_NOTHING_TO_PAY')
    const dossier = await this.#store.getDossier(req.MaHoSo)
    if (dossier === undefined) throw lgspError('LGSP_ERR_DOSSIER_NOT_FOUND', `Dossier ${req.MaHoSo} is not known to the gateway: post it first.`)
    if (dossier.row.owner !== member.id) throw lgspError('LGSP_ERR_PAYMENT_DOSSIER_FORBIDDEN')
    if (idempotencyKey !== undefined) checkIdempotencyKey(idempotencyKey)
    const contentHash = sha256(raw)
    const now = Date.now()
    const { created, payment } = await this.#store.createPayment({
      reference: uuidv7(now).replace(/-/g, ''),
      maHoSo: req.MaHoSo,
      maTTHC: dossier.row.maTTHC,
      maDonVi: req.MaDonVi,
      amount,
      currency: this.#cfg.currency,
      fees,
      sender: member.id,
      idempotencyKey: `${member.id}:${idempotencyKey ?? `auto:${sha256(`${req.MaHoSo}\n${contentHash}`)}`}`,
      contentHash,
      createdAt: now
    })
    // A repeat whose INIT went through gets the same answer; one whose INIT failed tries again.
    if (!created && payment.status !== 'created' && payment.status !== 'init_failed') return { replayed: true, reply: this.#reply(payment) }
    if (created) {
      // The request is an inbound message: into the message log, under the payment's reference.
      await this.#store.appendLog([{ at: now, direction: 'in', party: member.id, kind: 'payment-request', messageId: payment.reference, contentHash, body: member.logBodies ? raw : null, signature: signature ?? null }])
      const paid = await this.#store.paidPaymentOf(req.MaHoSo)
      if (paid !== undefined) {
        await this.#store.setPaymentInit(payment.reference, { error: 'dossier already paid' }, now)
        throw lgspError('LGSP_ERR_PAYMENT_ALREADY_PAID', `Dossier ${req.MaHoSo} is paid (MaThamChieu ${paid.reference}).`, { MaThamChieu: paid.reference })
      }
    }
    const description = req.ThongTinGiaoDich ?? `Thanh toán phí, lệ phí hồ sơ ${req.MaHoSo}`
    const record = dossier.row.record as Record<string, unknown>
    const init = await this.client.init({
      reference: payment.reference,
      amount: payment.amount,
      description,
      bank: req.MaNganHang ?? this.#cfg.bankCode,
      language: languages[req.NgonNgu ?? 'vi'],
      // ThoiGianGD of INIT is the payment's creation time, so a retried INIT and every later QUERY carry the same one.
      time: initTime(payment),
      // Partners send a plain IPv4 address; Node reports IPv4 peers on a dual-stack socket as ::ffff:a.b.c.d.
      ip: ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, ''),
      receipt: receiptOf({
        serviceCode: this.#cfg.serviceCode,
        maHoSo: req.MaHoSo,
        maTTHC: dossier.row.maTTHC,
        maDonVi: req.MaDonVi,
        description,
        fees: payment.fees,
        beneficiary: this.#cfg.beneficiaryByAgency[req.MaDonVi] ?? this.#cfg.beneficiary,
        // The payer defaults to the dossier's owner, as partners fill the receipt.
        names: {
          MaDVC: req.MaDVC,
          TenDVC: req.TenDVC,
          TenTTHC: req.TenTTHC ?? text(record.TenTTHC),
          TenDonVi: req.TenDonVi,
          HoTenNguoiNop: req.HoTenNguoiNop ?? text(record.ChuHoSo),
          SoCMNDNguoiNop: req.SoCMNDNguoiNop ?? text(record.SoGiayToChuHoSo),
          DiaChiNguoiNop: req.DiaChiNguoiNop,
          HuyenNguoiNop: req.HuyenNguoiNop,
          TinhNguoiNop: req.TinhNguoiNop
        }
      })
    })
    if (!init.ok) {
      await this.#store.setPaymentInit(payment.reference, { error: init.code }, Date.now())
      this.#log.warn({ reference: payment.reference, code: init.code, reason: init.message }, 'PayGov INIT failed')
      throw lgspError(init.code === 'LGSP_ERR_UPSTREAM_REJECTED' ? 'LGSP_ERR_PAYGOV_REJECTED' : 'LGSP_ERR_PAYGOV_UNAVAILABLE', undefined, { MaThamChieu: payment.reference })
    }
    await this.#store.setPaymentInit(payment.reference, { url: init.url }, Date.now())
    this.#log.info({ reference: payment.reference, maHoSo: req.MaHoSo, amount }, 'payment requested')
    return { replayed: !created, reply: this.#reply({ ...payment, status: 'pending', url: init.url }) }
  }

  #reply (p: Payment): PaymentReply {
    return { MaThamChieu: p.reference, MaHoSo: p.maHoSo, SoTien: p.amount, MaTienTe: p.currency, UrlThanhToan: p.url, status: p.status }
  }

  async get (reference: string): Promise<Payment | undefined> {
    return this.#store.getPayment(reference)
  }

  // ---- POST /v1/callbacks/paygov -----------------------------------------------------

  /**
   * The reply PayGov gets, as the platform's partners answer a callback: `MaLoi` "00" when
   * the callback was taken (a failed payment and a duplicate included), "99" when it was
   * refused; `ThoiGianGD`, `MaThamChieu` and `MaXacThuc` echo the callback's, `MaDoiTac` is
   * the province's. A refusal also carries the gateway's `code` and the HTTP status of the
   * error table: partners answer refusals with a non-200 status too, so PayGov does not
   * need a 200 to read the reply.
   */
  #callbackReply (body: unknown, code?: ErrorCode): CallbackReply {
    const b = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>
    const echo = (f: string): string => typeof b[f] === 'string' ? (b[f] as string).slice(0, 128) : ''
    const reply: Record<string, unknown> = {
      MaLoi: code === undefined ? resultCodes.success : resultCodes.refused,
      MoTaLoi: code === undefined ? '' : errorTable[code].title,
      MaDoiTac: this.#cfg.partnerCode,
      MaThamChieu: echo('MaThamChieu'),
      ThoiGianGD: echo('ThoiGianGD'),
      MaXacThuc: echo('MaXacThuc')
    }
    if (code !== undefined) reply.code = code
    return { status: code === undefined ? 200 : errorTable[code].status, body: reply }
  }

  async callback (body: unknown, sourceIp: string, raw = JSON.stringify(body)): Promise<CallbackReply> {
    const allow = this.#cfg.callbackAllowFrom
    if (allow.length > 0 && !allow.includes(sourceIp)) {
      this.#log.warn({ code: 'LGSP_ERR_CALLBACK_SOURCE' }, 'callback refused')
      return this.#callbackReply(body, 'LGSP_ERR_CALLBACK_SOURCE')
    }
    if (!validators.paygovCallback(body)) return this.#callbackReply(body, 'LGSP_ERR_CALLBACK_MALFORMED')
    const ipn = body as PaygovCallback
    if (!checksumMatches('IPN', ipn as unknown as Record<string, unknown>, this.#cfg.secret)) {
      this.#log.warn({ code: 'LGSP_ERR_CALLBACK_CHECKSUM', reference: ipn.MaThamChieu }, 'callback refused')
      return this.#callbackReply(body, 'LGSP_ERR_CALLBACK_CHECKSUM')
    }
    // A duplicate is the same reference, transaction and result: it gets the first reply.
    const key = callbackKey({ reference: ipn.MaThamChieu, transactionCode: ipn.MaGiaoDich, resultCode: ipn.MaLoi })
    // Every genuine callback (checksum good), duplicates included, is an inbound message of the log.
    await this.#store.appendLog([{ at: Date.now(), direction: 'in', party: PAYGOV_SENDER, kind: 'payment-callback', messageId: key, contentHash: sha256(raw), body: raw, signature: null }])
    const earlier = await this.#store.callbackReply(key)
    if (earlier !== undefined) return earlier as CallbackReply
    const { reply, applied } = await this.#applyCallback(ipn)
    // Only applied results are remembered: a refused one (mismatch) must not shadow a genuine one with the same key.
    if (applied) await this.#store.saveCallbackReply(key, ipn.MaThamChieu, reply, Date.now())
    return reply
  }

  async #applyCallback (ipn: PaygovCallback): Promise<{ reply: CallbackReply, applied: boolean }> {
    // A string (as PayGov sends it) or a number: the schema checked it is a whole amount.
    const amount = amountOf(ipn.SoTien) ?? Number.NaN
    const payment = await this.#store.getPayment(ipn.MaThamChieu)
    const verdict = judgeCallback(payment, { partnerCode: ipn.MaDoiTac, currency: ipn.MaTienTe, amount }, this.#cfg.partnerCode)
    if (!verdict.apply) {
      const key = anomalyKey({ reference: ipn.MaThamChieu, transactionCode: ipn.MaGiaoDich, resultCode: ipn.MaLoi, checksum: ipn.MaXacThuc })
      await this.#store.recordAnomaly({ ...verdict.anomaly, key, reference: ipn.MaThamChieu, transactionCode: ipn.MaGiaoDich, amount, resultCode: ipn.MaLoi, receivedAt: Date.now() })
      this.#log.warn({ code: verdict.code, reference: ipn.MaThamChieu, kind: verdict.anomaly.kind }, 'callback refused and kept as an anomaly')
      return { reply: this.#callbackReply(ipn, verdict.code), applied: false }
    }
    await this.#result(verdict.payment, ipn.MaLoi === resultCodes.success, ipn.MaGiaoDich, ipn.MaNganHang ?? null, ipn.ThoiGianGD, 'callback')
    return { reply: this.#callbackReply(ipn), applied: true }
  }

  /** Applies a result (callback or QUERY) and, when it made the payment paid, its effect. */
  async #result (payment: Payment, success: boolean, transactionCode: string, bank: string | null, time: string, source: 'callback' | 'query'): Promise<void> {
    const now = Date.now()
    const { outcome, payment: after } = await this.#store.applyPaymentResult({
      reference: payment.reference, success, transactionCode, bank, resultAt: parseDvcqgDate(time) ?? now, source, at: now
    })
    this.#log.info({ reference: payment.reference, maHoSo: payment.maHoSo, outcome, source, success }, 'payment result')
    if (outcome === 'paid') await this.#applyEffect(after)
  }

  /** Carries a paid payment into the dossier's ledger and on to the destinations, once. */
  async #applyEffect (p: Payment): Promise<void> {
    const now = Date.now()
    const destinations = this.#cfg.destinations
    const notice: PaymentNotice = {
      MaHoSo: p.maHoSo,
      MaThamChieu: p.reference,
      MaGiaoDich: p.transactionCode ?? '',
      SoTien: p.amount,
      MaNganHang: p.bank,
      ThoiGianGD: formatDvcqgDate(p.resultAt ?? now),
      DuocThanhToanTrucTuyen: this.#cfg.paidFlag,
      PhiLePhi: p.fees
    }
    const messageId = uuidv7(now)
    const result = await this.#store.accept({
      messageId,
      receivedAt: now,
      sender: PAYGOV_SENDER,
      kind: 'payment',
      // One effect per payment, whoever applies it (callback, settlement, recovery).
      idempotencyKey: `${PAYGOV_SENDER}:effect:${p.reference}`,
      contentHash: sha256(JSON.stringify(notice)),
      idempotencyHash: p.reference,
      body: JSON.stringify(notice),
      maHoSo: [p.maHoSo],
      reply: { messageId, receivedAt: new Date(now).toISOString(), destinations },
      plan: (current) => {
        const change = planPayment(current, p.maHoSo, { paidFlag: this.#cfg.paidFlag, fees: p.fees, paidAt: p.resultAt ?? now }, { sender: PAYGOV_SENDER, messageId, now })
        const record = change.rows[0]!.record
        return { change, outbox: unitsFor(this.#adapters, destinations, p.maHoSo, { kind: 'payment', messageId, sender: PAYGOV_SENDER, record, payment: notice }) }
      }
    })
    await this.#store.setPaymentEffect(p.reference, result.reply.messageId)
    this.#notify(destinations)
  }

  // ---- settlement --------------------------------------------------------------------

  /** One settlement pass: effects left over by a crash, then QUERY for payments with no result. */
  async settle (now = Date.now()): Promise<{ queried: number, settled: number, effects: number }> {
    let effects = 0
    for (const p of await this.#store.paymentsAwaitingEffect(100)) {
      await this.#applyEffect(p)
      effects++
    }
    let queried = 0
    let settled = 0
    const due = await this.#store.duePayments(now - this.#cfg.settlement.pendingAfterMs, 200)
    for (const p of due) {
      queried++
      const answer = await this.client.query(p.reference, initTime(p))
      await this.#store.markQueried(p.reference, Date.now())
      if (!answer.ok) {
        // Not believed (no answer, MaLoi other than "00", checksum or reference wrong): nothing changes, it stays pending.
        this.#log.warn({ reference: p.reference, code: answer.code, reason: answer.message }, 'PayGov QUERY not trusted')
        continue
      }
      const a = answer.answer
      const state: QueryFacts['state'] = a.state === transactionStates.success ? 'success' : a.state === transactionStates.pending ? 'processing' : 'failed'
      const verdict = judgeQueryAnswer(p, { state, amount: a.amount })
      if (!verdict.apply) {
        if ('anomaly' in verdict) {
          await this.#store.recordAnomaly({ ...verdict.anomaly, key: queryAnomalyKey(p.reference, a.transactionCode), reference: p.reference, transactionCode: a.transactionCode, amount: a.amount, resultCode: resultCodes.success, receivedAt: Date.now() })
        }
        continue
      }
      await this.#result(p, verdict.success, a.transactionCode, a.bank, a.time, 'query')
      settled++
    }
    return { queried, settled, effects }
  }

  /** Settlement figures for one day (yyyy-MM-dd, Vietnam time). */
  async report (date: string): Promise<SettlementReport> {
    const from = /^\d{4}-\d{2}-\d{2}$/.test(date) ? parseDvcqgDate(`${date.replace(/-/g, '')}000000`) : undefined
    if (from === undefined) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'date is yyyy-MM-dd (Vietnam time).')
    return this.#store.settlement(from, from + 24 * 3600_000)
  }

  /** Runs settlement every `settlement.intervalMs`, one pass at a time. */
  start (): void {
    this.#schedule.start()
  }

  async stop (): Promise<void> {
    await this.#schedule.stop()
    await this.client.close()
  }
}
