/**
 * PayGov transport: INIT (create a payment, returns UrlThanhToan) and QUERY (confirm a
 * result). Requests are signed with MaXacThuc; a QUERY reply is checked the same way.
 */
import type { Pool } from 'undici'
import { scrub } from '../../gateway/logger.js'
import type { GatewayConfig } from '../../schemas/types.js'
import { basePath, createPool, postJson, statusFailure, transportFailure } from '../http.js'
import type { DeliveryResult } from '../types.js'
import { PROTOCOL_VERSION, checksumMatches, paymentUrlOf, sign } from './codec.js'

type Failure = Extract<DeliveryResult, { ok: false }>

/** The transport's part of the config's `payments` section (schemas/config.schema.json). */
export type PaygovSettings = Pick<NonNullable<GatewayConfig['payments']>, 'url' | 'initPath' | 'queryPath' | 'partnerCode' | 'secret' | 'currency' | 'timeouts'>

/** What INIT needs besides the partner settings. */
export interface InitRequest {
  reference: string
  amount: number
  description: string
  bank: string
  language: 'vi' | 'en'
  /** ThoiGianGD: yyyyMMddHHmmss. */
  time: string
  /** The payer's address as the one-stop saw it. */
  ip: string
  receipt: { MaHoSo: string, MaTTHC: string, MaDonVi: string, PhiLePhi: Array<{ TenPhiLePhi: string, MaPhiLePhi?: string, Gia: number }> }
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
  readonly #s: PaygovSettings
  readonly #pool: Pool
  readonly #base: string

  constructor (settings: PaygovSettings) {
    this.#s = settings
    this.#pool = createPool(settings.url, settings.timeouts, 4)
    this.#base = basePath(settings.url)
  }

  /** Sends INIT; the payment URL, or why not. */
  async init (r: InitRequest): Promise<{ ok: true, url: string } | Failure> {
    const message = sign('INIT', {
      LoaiBanTin: 'INIT',
      PhienBan: PROTOCOL_VERSION,
      MaDoiTac: this.#s.partnerCode,
      MaThamChieu: r.reference,
      SoTien: r.amount,
      LoaiHinhThanhToan: 'PAY',
      MaKenhThanhToan: '1',
      MaThietBi: '1',
      NgonNgu: r.language,
      MaTienTe: this.#s.currency,
      MaNganHang: r.bank,
      ThongTinGiaoDich: r.description,
      ThoiGianGD: r.time,
      Ip: r.ip,
      ThongTinBienLai: r.receipt
    }, this.#s.secret)
    let res
    try {
      res = await postJson(this.#pool, this.#base + this.#s.initPath, message)
    } catch (err) {
      return transportFailure(err)
    }
    if (res.status !== 200) return statusFailure(res.status, res.headers['retry-after'])
    const url = paymentUrlOf(res.body)
    if (url !== undefined) return { ok: true, url }
    const b = res.body as { error_code?: unknown, message?: unknown } | undefined
    return { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED', message: `INIT error_code ${String(b?.error_code)}: ${scrub(String(b?.message ?? ''))}`, uncertain: false }
  }

  /** Sends QUERY for a reference; the verified answer, or why not. */
  async query (reference: string, time: string): Promise<{ ok: true, answer: QueryAnswer } | Failure> {
    const message = sign('QUERY', { LoaiBanTin: 'QUERY', PhienBan: PROTOCOL_VERSION, MaDoiTac: this.#s.partnerCode, MaThamChieu: reference, ThoiGianGD: time }, this.#s.secret)
    let res
    try {
      res = await postJson(this.#pool, this.#base + this.#s.queryPath, message)
    } catch (err) {
      return transportFailure(err)
    }
    if (res.status !== 200) return statusFailure(res.status, res.headers['retry-after'])
    const b = res.body as Record<string, unknown> | undefined
    if (b === undefined || typeof b !== 'object') return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: 'QUERY reply is not JSON', uncertain: false }
    // Only a reply signed with the shared secret, about this reference, is believed.
    if (!checksumMatches('IPN', b, this.#s.secret) || b.MaThamChieu !== reference || b.MaDoiTac !== this.#s.partnerCode) {
      return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: 'QUERY reply checksum or reference does not match', uncertain: false }
    }
    const state = String(b.TrangThaiGD)
    if (state !== '1' && state !== '3' && state !== '4') return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: `QUERY TrangThaiGD ${state}`, uncertain: false }
    return { ok: true, answer: { state, transactionCode: String(b.MaGiaoDich ?? ''), amount: Number(b.SoTien), bank: typeof b.MaNganHang === 'string' ? b.MaNganHang : null, time: String(b.ThoiGianGD ?? '') } }
  }

  async close (): Promise<void> {
    await this.#pool.close()
  }
}
