/**
 * GPLX transport: bearer-key REST. `POST /api/v1/hoso` (submit), `GET /api/v1/DanhSachHoSo`
 * (changes after a cursor), `GET /api/v1/TraCuuHoSo` (one dossier).
 */
import type { Pool } from 'undici'
import type { GplxDestination } from '../../schemas/types.js'
import { basePath, createPool, postJson, statusFailure, transportFailure } from '../http.js'
import type { DeliveryResult, SignContext } from '../types.js'
import { isGplxStatus, type GplxChange, type GplxRecord } from './codec.js'

type Failure = Extract<DeliveryResult, { ok: false }>

export class GplxClient {
  readonly #cfg: GplxDestination
  readonly #pool: Pool
  readonly #base: string

  constructor (cfg: GplxDestination) {
    this.#cfg = cfg
    this.#pool = createPool(cfg.url, cfg.timeouts, cfg.concurrency)
    this.#base = basePath(cfg.url)
  }

  get #auth (): Record<string, string> {
    return { authorization: `Bearer ${this.#cfg.apiKey}` }
  }

  /** Submits a dossier; "already there" (409) counts as delivered: the ministry holds it. */
  async submit (body: Record<string, unknown>, sign?: SignContext): Promise<DeliveryResult> {
    let res
    try {
      res = await postJson(this.#pool, `${this.#base}/api/v1/hoso`, body, this.#auth, sign)
    } catch (err) {
      return transportFailure(err)
    }
    if (res.status === 201 || res.status === 200) return { ok: true }
    if (res.status === 409) return { ok: true, note: 'already held by the ministry' }
    return statusFailure(res.status, res.headers['retry-after'])
  }

  async #get (path: string): Promise<{ ok: true, body: unknown } | Failure> {
    let res
    try {
      res = await this.#pool.request({ method: 'GET', path: this.#base + path, headers: { accept: 'application/json', ...this.#auth } })
    } catch (err) {
      return transportFailure(err)
    }
    const text = await res.body.text()
    if (res.statusCode !== 200) return statusFailure(res.statusCode, res.headers['retry-after'])
    try {
      return { ok: true, body: JSON.parse(text) }
    } catch {
      return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: 'GPLX reply is not JSON', uncertain: false }
    }
  }

  /** DanhSachHoSo: changes with phienBan above `after`, oldest first. */
  async changes (after: number, limit: number): Promise<{ ok: true, items: GplxChange[] } | Failure> {
    const r = await this.#get(`/api/v1/DanhSachHoSo?sauPhienBan=${after}&soLuong=${limit}`)
    if (!r.ok) return r
    const items = (r.body as { items?: unknown }).items
    if (!Array.isArray(items) || !items.every((i: GplxChange) => typeof i?.maHoSo === 'string' && isGplxStatus(i.trangThai) && Number.isSafeInteger(i.phienBan))) {
      return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: 'DanhSachHoSo: unexpected items', uncertain: false }
    }
    return { ok: true, items: items as GplxChange[] }
  }

  /** TraCuuHoSo: one dossier as the ministry holds it. */
  async lookUp (maHoSo: string): Promise<{ ok: true, record: GplxRecord } | Failure> {
    const r = await this.#get(`/api/v1/TraCuuHoSo?maHoSo=${encodeURIComponent(maHoSo)}`)
    if (!r.ok) return r
    const g = r.body as GplxRecord
    if (typeof g?.maHoSo !== 'string' || !isGplxStatus(g.trangThai) || typeof g.thoiDiemCapNhat !== 'string' ||
      !Array.isArray(g.lichSu) || !g.lichSu.every((s) => isGplxStatus(s?.trangThai) && typeof s.thoiDiem === 'string' && Number.isSafeInteger(s.phienBan))) {
      return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: 'TraCuuHoSo: unexpected record', uncertain: false }
    }
    return { ok: true, record: g }
  }

  async close (): Promise<void> {
    await this.#pool.close()
  }
}
