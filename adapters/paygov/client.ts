/**
 * PayGov transport: INIT (create a payment, returns UrlThanhToan) and QUERY (confirm a
 * result), as partners of the platform send them: every value a string (`SoTien` too),
 * signed with MaXacThuc over the strings sent, and `Authorization: Bearer` when the
 * deployment gave the province an access token. A QUERY reply is believed only when its
 * `MaLoi` is "00" and its checksum holds.
 */
import type { Pool } from 'undici'
import { scrub } from '../../gateway/logger.js'
import type { GatewayConfig } from '../../schemas/types.js'
import { basePath, createPool, postJson, statusFailure, transportFailure } from '../http.js'
import type { DeliveryResult } from '../types.js'
import { PROTOCOL_VERSION, amountOf, checksumMatches, paymentUrlOf, resultCodes, sign, type ThongTinBienLai } from './codec.js'

type Failure = Extract<DeliveryResult, { ok: false }>

/** The transport's part of the config's `payments` section (schemas/config.schema.json). */
export type PaygovSettings = Pick<NonNullable<GatewayConfig['payments']>, 'url' | 'initPath' | 'queryPath' | 'partnerCode' | 'secret' | 'currency' | 'timeouts' | 'bearerToken'>

/** What INIT needs besides the partner settings. */
export interface InitRequest {
  reference: string
  /** Whole VND; sent as a string. */
  amount: number
  description: string
  /** MaNganHang: a bank chosen in advance, or "PAYMENT" (the payer chooses on PayGov's page). */
  bank: string
  /** NgonNgu as partners send it. */
  language: 'vi-VN' | 'en-US'
  /** ThoiGianGD: yyyyMMddHHmmss; QUERY must send the same one later. */
  time: string
  /** The payer's address as the one-stop saw it. */
  ip: string
  /** ThongTinBienLai (holds the payer's personal data: never logged). */
  receipt: ThongTinBienLai
}

/** A verified QUERY answer. */
export interface QueryAnswer {
  state: '1' | '3' | '4'
  transactionCode: string
  amount: number
  bank: string | null
  time: string
}

export class PaygovClient {
  readonly #settings: PaygovSettings
  readonly #pool: Pool
  readonly #base: string
  readonly #headers: Record<string, string>

  constructor (settings: PaygovSettings) {
    this.#settings = settings
    this.#pool = createPool(settings.url, settings.timeouts, 4)
    this.#base = basePath(settings.url)
    // Partners send the bearer header only when the deployment issued a token.
    this.#headers = settings.bearerToken === undefined ? {} : { authorization: `Bearer ${settings.bearerToken}` }
  }

  /** Sends INIT; the payment URL, or why not. */
  async init (r: InitRequest): Promise<{ ok: true, url: string } | Failure> {
    const message = sign('INIT', {
      LoaiBanTin: 'INIT',
      PhienBan: PROTOCOL_VERSION,
      MaDoiTac: this.#settings.partnerCode,
      MaThamChieu: r.reference,
      SoTien: String(r.amount),
      LoaiHinhThanhToan: 'PAY',
      MaKenhThanhToan: '1',
      MaThietBi: '1',
      NgonNgu: r.language,
      MaTienTe: this.#settings.currency,
      MaNganHang: r.bank,
      ThongTinGiaoDich: r.description,
      ThoiGianGD: r.time,
      Ip: r.ip
    }, this.#settings.secret)
    let res
    try {
      res = await postJson(this.#pool, this.#base + this.#settings.initPath, { ...message, ThongTinBienLai: r.receipt }, this.#headers)
    } catch (err) {
      return transportFailure(err)
    }
    if (res.status !== 200) return statusFailure(res.status, res.headers['retry-after'])
    const url = paymentUrlOf(res.body)
    if (url !== undefined) return { ok: true, url }
    const b = res.body as { error_code?: unknown, message?: unknown } | undefined
    const text = typeof b?.message === 'string' ? b.message : JSON.stringify(b?.message ?? '')
    return { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED', message: `INIT error_code ${String(b?.error_code)}: ${scrub(text)}`, uncertain: false }
  }

  /**
   * Sends QUERY for a reference with the ThoiGianGD its INIT carried; the verified answer,
   * or why it is not believed.
   */
  async query (reference: string, initTime: string): Promise<{ ok: true, answer: QueryAnswer } | Failure> {
    const message = sign('QUERY', { LoaiBanTin: 'QUERY', PhienBan: PROTOCOL_VERSION, MaDoiTac: this.#settings.partnerCode, MaThamChieu: reference, ThoiGianGD: initTime }, this.#settings.secret)
    let res
    try {
      res = await postJson(this.#pool, this.#base + this.#settings.queryPath, message, this.#headers)
    } catch (err) {
      return transportFailure(err)
    }
    if (res.status !== 200) return statusFailure(res.status, res.headers['retry-after'])
    const b = res.body as Record<string, unknown> | undefined
    if (b === undefined || b === null || typeof b !== 'object') return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: 'QUERY reply is not JSON', uncertain: false }
    // Partners act on a QUERY reply only when MaLoi is "00": anything else says PayGov could not answer.
    if (String(b.MaLoi) !== resultCodes.success) return { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED', message: `QUERY MaLoi ${scrub(String(b.MaLoi ?? b.error_code), 10)}`, uncertain: false }
    // Only a reply signed with the shared secret, about this reference, is believed.
    if (!checksumMatches('IPN', b, this.#settings.secret) || b.MaThamChieu !== reference || b.MaDoiTac !== this.#settings.partnerCode) {
      return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: 'QUERY reply checksum or reference does not match', uncertain: false }
    }
    const state = String(b.TrangThaiGD)
    if (state !== '1' && state !== '3' && state !== '4') return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: `QUERY TrangThaiGD ${scrub(state, 10)}`, uncertain: false }
    const amount = amountOf(b.SoTien)
    if (amount === undefined && state === '1') return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: 'QUERY SoTien is not a whole amount', uncertain: false }
    return { ok: true, answer: { state, transactionCode: String(b.MaGiaoDich ?? ''), amount: amount ?? 0, bank: typeof b.MaNganHang === 'string' ? b.MaNganHang : null, time: String(b.ThoiGianGD ?? '') } }
  }

  async close (): Promise<void> {
    await this.#pool.close()
  }
}
