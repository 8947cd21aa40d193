/**
 * A stand-in for PayGov (protocol 1.0.6) in the shapes the platform's partners see: INIT
 * checked over the string values sent (`SoTien` a string), answered `{error_code: "0",
 * message: "<JSON string with UrlThanhToan>"}`; QUERY answered with `MaLoi` "00" and
 * `TrangThaiGD` only for the reference and ThoiGianGD of an INIT; the bearer header checked
 * when one is configured. When a payer pays (`pay()`, or GET /pay/{MaThamChieu}?result=success
 * in the demo) it posts the result callback (IPN, `SoTien` a string) to the gateway,
 * misbehaving on demand: duplicates, delays, a failure after the success, wrong amounts,
 * forged checksums, callbacks that never come; and QUERY can answer with an error code or
 * a forged checksum.
 */
import { randomUUID } from 'node:crypto'
import { request } from 'undici'
import { formatDvcqgDate } from '../../gateway/ledger/dates.js'
import { SimServer, type SimReply, type SimRequest } from '../simulator-kit.js'
import { amountOf, checksumMatches, resultCodes, sign, transactionStates } from './codec.js'

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

/**
 * How QUERY answers a known transaction: `error-code` signs a reply whose MaLoi is not
 * "00" (the state it carries must not be believed), `forged` signs with the wrong secret.
 */
export type QueryFault = 'none' | 'error-code' | 'forged'

export interface PaygovSimulatorOptions {
  partnerCode?: string
  secret?: string
  initPath?: string
  queryPath?: string
  /** When set, INIT and QUERY need `Authorization: Bearer <token>`. */
  bearerToken?: string
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
  /** ThoiGianGD of the result (INIT's until the payer acts). */
  time: string
  /** ThoiGianGD of INIT: QUERY must send it. */
  initTime: string
  /** ThongTinGiaoDich of INIT, repeated in the callback. */
  description: string
}

/** A request as the simulator received it (the last 200 are kept). */
export interface SimReceived {
  kind: 'INIT' | 'QUERY'
  authorization: string | undefined
  body: Record<string, unknown>
}

const KEEP_RECEIVED = 200

/** The gateway's reply to one callback, and that callback. */
export interface SimCallbackReply {
  status: number
  body: Record<string, unknown>
  callback: Record<string, unknown>
}

export class PaygovSimulator {
  readonly server: SimServer
  readonly transactions = new Map<string, SimTransaction>()
  /** Where callbacks go (the gateway's POST /v1/callbacks/paygov). */
  callbackUrl = ''
  misbehaviour: CallbackMisbehaviour = { ...politeCallbacks }
  queryFault: QueryFault = 'none'
  /** Callbacks posted, dropped, and the gateway's replies (with the callback each answered). */
  sent = 0
  dropped = 0
  readonly replies: SimCallbackReply[] = []
  /** INIT and QUERY requests as they arrived, newest last. */
  readonly received: SimReceived[] = []
  readonly partnerCode: string
  readonly secret: string
  readonly initPath: string
  readonly queryPath: string
  readonly bearerToken: string | undefined
  readonly #random: () => number
  readonly #inflight = new Set<Promise<void>>()

  constructor (options: PaygovSimulatorOptions = {}) {
    this.partnerCode = options.partnerCode ?? 'TINH-H56'
    this.secret = options.secret ?? 'paygov-dev-shared-secret'
    this.initPath = options.initPath ?? '/api/v1/payments/init'
    this.queryPath = options.queryPath ?? '/api/v1/payments/query'
    this.bearerToken = options.bearerToken
    this.#random = options.random ?? Math.random
    this.server = new SimServer({
      name: 'paygov',
      routes: {
        [`POST ${this.initPath}`]: (req) => this.#authorised(req, 'INIT') ?? this.#init(req),
        [`POST ${this.queryPath}`]: (req) => this.#authorised(req, 'QUERY') ?? this.#query(req),
        'GET /_sim/state': () => ({ status: 200, body: { transactions: this.transactions.size, sent: this.sent, dropped: this.dropped, misbehaviour: this.misbehaviour, queryFault: this.queryFault } })
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

  /** Keeps the request; refuses it when a bearer token is configured and not sent. */
  #authorised (req: SimRequest, kind: SimReceived['kind']): SimReply | undefined {
    const authorization = typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined
    this.received.push({ kind, authorization, body: (req.body ?? {}) as Record<string, unknown> })
    if (this.received.length > KEEP_RECEIVED) this.received.shift()
    if (this.bearerToken !== undefined && authorization !== `Bearer ${this.bearerToken}`) return { status: 401, body: { error_code: '401', message: 'Unauthorized' } }
    return undefined
  }

  #init (req: SimRequest): SimReply {
    const b = (req.body ?? {}) as Record<string, unknown>
    // Partners send every value as a string; the checksum is over those strings.
    if (typeof b.SoTien !== 'string' || amountOf(b.SoTien) === undefined) return { status: 200, body: { error_code: '02', message: 'SoTien không hợp lệ' } }
    if (!checksumMatches('INIT', b, this.secret)) return { status: 200, body: { error_code: '01', message: 'Sai mã xác thực' } }
    if (b.MaDoiTac !== this.partnerCode) return { status: 200, body: { error_code: '04', message: 'Sai mã đối tác' } }
    const reference = String(b.MaThamChieu)
    if (!this.transactions.has(reference)) {
      this.transactions.set(reference, {
        reference, amount: Number(b.SoTien), currency: String(b.MaTienTe), receipt: b.ThongTinBienLai,
        state: '3', transactionCode: '', bank: b.MaNganHang === 'PAYMENT' ? '' : String(b.MaNganHang ?? ''), time: String(b.ThoiGianGD),
        initTime: String(b.ThoiGianGD), description: String(b.ThongTinGiaoDich ?? '')
      })
    }
    return { status: 200, body: { error_code: '0', message: JSON.stringify({ MaThamChieu: reference, UrlThanhToan: `${this.url}/pay/${reference}` }) } }
  }

  #query (req: SimRequest): SimReply {
    const b = (req.body ?? {}) as Record<string, unknown>
    if (!checksumMatches('QUERY', b, this.secret)) return { status: 200, body: { MaLoi: '01', MoTaLoi: 'Sai mã xác thực' } }
    const t = this.transactions.get(String(b.MaThamChieu))
    // PayGov finds a transaction by its reference and the ThoiGianGD of its INIT.
    if (t === undefined || b.ThoiGianGD !== t.initTime) return { status: 200, body: { MaLoi: '02', MoTaLoi: 'Không tìm thấy giao dịch', MaThamChieu: String(b.MaThamChieu) } }
    const fields = this.#resultFields(t, this.queryFault === 'error-code' ? '99' : resultCodes.success)
    return { status: 200, body: { ...sign('IPN', fields, this.queryFault === 'forged' ? 'not-the-shared-secret' : this.secret), TrangThaiGD: t.state } }
  }

  #payPage (req: SimRequest): SimReply | undefined {
    const m = /^\/pay\/([A-Za-z0-9_-]+)$/.exec(req.path)
    if (req.method !== 'GET' || m === null) return undefined
    if (!this.transactions.has(m[1]!)) return { status: 404, body: { error: 'no such payment' } }
    this.pay(m[1]!, req.query.get('result') !== 'failure')
    return { status: 200, body: { paid: req.query.get('result') !== 'failure', reference: m[1] } }
  }

  /** The fields of a callback or a QUERY reply (signed the same way), `SoTien` a string as PayGov sends it. */
  #resultFields (t: SimTransaction, maLoi: string): Record<string, unknown> {
    return {
      LoaiBanTin: 'IPN',
      MaLoi: maLoi,
      MaDoiTac: this.partnerCode,
      MaThamChieu: t.reference,
      SoTien: String(t.amount),
      MaTienTe: t.currency,
      MaGiaoDich: t.transactionCode,
      MaNganHang: t.bank,
      ThoiGianGD: t.time,
      ThongTinGiaoDich: t.description
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
    const fields = this.#resultFields(t, success ? resultCodes.success : '10')
    if (m.wrongAmount) fields.SoTien = String(t.amount - 1000)
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
  async postCallback (body: Record<string, unknown>): Promise<SimCallbackReply> {
    this.sent++
    try {
      const res = await request(this.callbackUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      const reply = { status: res.statusCode, body: await res.body.json() as Record<string, unknown>, callback: body }
      this.replies.push(reply)
      return reply
    } catch {
      const reply = { status: 0, body: {}, callback: body }
      this.replies.push(reply)
      return reply
    }
  }
}
