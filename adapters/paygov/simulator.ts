/**
 * A stand-in for PayGov (protocol 1.0.6): answers INIT and QUERY with correct checksums,
 * and when a payer pays (`pay()`, or GET /pay/{MaThamChieu}?result=success in the demo)
 * posts the result callback (IPN) to the gateway, misbehaving on demand: duplicates,
 * delays, a failure after the success, wrong amounts, forged checksums, callbacks that
 * never come.
 */
import { randomUUID } from 'node:crypto'
import { request } from 'undici'
import { formatDvcqgDate } from '../../gateway/ledger/dates.js'
import { SimServer, type SimReply, type SimRequest } from '../simulator-kit.js'
import { checksumMatches, resultCodes, sign, transactionStates } from './codec.js'

export interface CallbackMisbehaviour {
  /** Send every callback twice. */
  duplicate: boolean
  /** Wait this long before sending. */
  delayMs: number
  /** After a success, also send a failure for the same reference (other transaction code). */
  failureAfterSuccess: boolean
  /** Report an amount 1,000 VND off. */
  wrongAmount: boolean
  /** Sign with the wrong secret. */
  forgeChecksum: boolean
  /** Share of callbacks never sent (0–1); the result still stands for QUERY. */
  dropRate: number
}

export const politeCallbacks: CallbackMisbehaviour = { duplicate: false, delayMs: 0, failureAfterSuccess: false, wrongAmount: false, forgeChecksum: false, dropRate: 0 }

export interface PaygovSimulatorOptions {
  partnerCode?: string
  secret?: string
  initPath?: string
  queryPath?: string
  random?: () => number
}

/** A payment as the simulator holds it. */
export interface SimTransaction {
  reference: string
  amount: number
  currency: string
  receipt: unknown
  state: '1' | '3' | '4'
  transactionCode: string
  bank: string
  time: string
}

export class PaygovSimulator {
  readonly server: SimServer
  readonly transactions = new Map<string, SimTransaction>()
  /** Where callbacks go (the gateway's POST /v1/callbacks/paygov). */
  callbackUrl = ''
  misbehaviour: CallbackMisbehaviour = { ...politeCallbacks }
  /** Callbacks posted, dropped, and the gateway's replies. */
  sent = 0
  dropped = 0
  readonly replies: Array<{ status: number, body: Record<string, unknown> }> = []
  readonly partnerCode: string
  readonly secret: string
  readonly initPath: string
  readonly queryPath: string
  readonly #random: () => number
  readonly #inflight = new Set<Promise<void>>()

  constructor (options: PaygovSimulatorOptions = {}) {
    this.partnerCode = options.partnerCode ?? 'TINH-H56'
    this.secret = options.secret ?? 'paygov-dev-shared-secret'
    this.initPath = options.initPath ?? '/api/v1/payments/init'
    this.queryPath = options.queryPath ?? '/api/v1/payments/query'
    this.#random = options.random ?? Math.random
    this.server = new SimServer({
      name: 'paygov',
      routes: {
        [`POST ${this.initPath}`]: (req) => this.#init(req),
        [`POST ${this.queryPath}`]: (req) => this.#query(req),
        'GET /_sim/state': () => ({ status: 200, body: { transactions: this.transactions.size, sent: this.sent, dropped: this.dropped, misbehaviour: this.misbehaviour } })
      }
    })
    // The payer's browser: GET /pay/{MaThamChieu}?result=success|failure.
    this.server.fallback = (req) => this.#payPage(req)
  }

  get url (): string { return this.server.url }

  async start (port = 0): Promise<this> {
    await this.server.start(port)
    return this
  }

  /** Stops the server after the callbacks under way. */
  async stop (): Promise<void> {
    await Promise.all(this.#inflight)
    await this.server.stop()
  }

  /** Waits until every callback under way has been answered. */
  async settled (): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all(this.#inflight)
  }

  #init (req: SimRequest): SimReply {
    const b = (req.body ?? {}) as Record<string, unknown>
    if (!checksumMatches('INIT', b, this.secret)) return { status: 200, body: { error_code: '01', message: 'Sai mã xác thực' } }
    if (b.MaDoiTac !== this.partnerCode) return { status: 200, body: { error_code: '04', message: 'Sai mã đối tác' } }
    const reference = String(b.MaThamChieu)
    if (!this.transactions.has(reference)) {
      this.transactions.set(reference, {
        reference, amount: Number(b.SoTien), currency: String(b.MaTienTe), receipt: b.ThongTinBienLai,
        state: '3', transactionCode: '', bank: String(b.MaNganHang ?? ''), time: String(b.ThoiGianGD)
      })
    }
    return { status: 200, body: { error_code: '0', message: JSON.stringify({ UrlThanhToan: `${this.url}/pay/${reference}` }) } }
  }

  #query (req: SimRequest): SimReply {
    const b = (req.body ?? {}) as Record<string, unknown>
    if (!checksumMatches('QUERY', b, this.secret)) return { status: 200, body: { error_code: '01', message: 'Sai mã xác thực' } }
    const t = this.transactions.get(String(b.MaThamChieu))
    const fields = this.#resultFields(t ?? { reference: String(b.MaThamChieu), amount: 0, currency: 'VND', receipt: null, state: '4', transactionCode: '', bank: '', time: formatDvcqgDate(Date.now()) }, t === undefined ? false : t.state === '1')
    return { status: 200, body: { ...sign('IPN', fields, this.secret), TrangThaiGD: t?.state ?? transactionStates.failed } }
  }

  #payPage (req: SimRequest): SimReply | undefined {
    const m = /^\/pay\/([A-Za-z0-9_-]+)$/.exec(req.path)
    if (req.method !== 'GET' || m === null) return undefined
    if (!this.transactions.has(m[1]!)) return { status: 404, body: { error: 'no such payment' } }
    this.pay(m[1]!, req.query.get('result') !== 'failure')
    return { status: 200, body: { paid: req.query.get('result') !== 'failure', reference: m[1] } }
  }

  #resultFields (t: SimTransaction, success: boolean): Record<string, unknown> {
    return {
      LoaiBanTin: 'IPN',
      MaLoi: success ? resultCodes.success : '10',
      MaDoiTac: this.partnerCode,
      MaThamChieu: t.reference,
      SoTien: t.amount,
      MaTienTe: t.currency,
      MaGiaoDich: t.transactionCode,
      MaNganHang: t.bank,
      ThoiGianGD: t.time,
      ThongTinGiaoDich: 'Thanh toán phí, lệ phí hồ sơ'
    }
  }

  /** The payer pays (or fails to): the result stands, and callbacks go out as misbehaviour says. */
  pay (reference: string, success = true): void {
    const t = this.transactions.get(reference)
    if (t === undefined) return
    t.state = success ? transactionStates.success : transactionStates.failed
    t.transactionCode = `PG${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`
    t.bank = t.bank === '' ? 'VCB' : t.bank
    t.time = formatDvcqgDate(Date.now())
    const m = this.misbehaviour
    if (this.#random() < m.dropRate) {
      this.dropped++
      return
    }
    const fields = this.#resultFields(t, success)
    if (m.wrongAmount) fields.SoTien = t.amount - 1000
    const body = sign('IPN', fields, m.forgeChecksum ? 'not-the-shared-secret' : this.secret)
    const bodies = [body]
    if (m.duplicate) bodies.push(body)
    if (success && m.failureAfterSuccess) {
      bodies.push(sign('IPN', { ...fields, MaLoi: '10', MaGiaoDich: `${t.transactionCode}X` }, this.secret))
    }
    const job = (async () => {
      if (m.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, m.delayMs))
      for (const b of bodies) await this.postCallback(b)
    })()
    this.#inflight.add(job)
    void job.finally(() => this.#inflight.delete(job))
  }

  /** Posts one callback body to the gateway and keeps its reply. */
  async postCallback (body: Record<string, unknown>): Promise<{ status: number, body: Record<string, unknown> }> {
    this.sent++
    try {
      const res = await request(this.callbackUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      const reply = { status: res.statusCode, body: await res.body.json() as Record<string, unknown> }
      this.replies.push(reply)
      return reply
    } catch {
      const reply = { status: 0, body: {} }
      this.replies.push(reply)
      return reply
    }
  }
}
