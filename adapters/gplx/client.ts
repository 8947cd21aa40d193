/**
 * GPLX transport: session login (`POST {url}{authPath}` `{username, password}` →
 * `{error_code: "0", session}`), then every call is `POST {url}{integrationPath}` with
 * `{session, service, donViXuLy, …}` and answers `{error_code, data: […]}`. The session is
 * cached and shared; a call answered with a non-zero error_code logs in again once and is
 * sent again (every service used here is a read, so resending is harmless). An optional
 * bearer token rides on every request where the deployment asks for one.
 */
import type { Pool } from 'undici'
import type { GplxDestination } from '../../schemas/types.js'
import { scrub } from '../../gateway/logger.js'
import { basePath, createPool, postJson, statusFailure, transportFailure } from '../http.js'
import type { DeliveryResult } from '../types.js'
import type { GplxDetail, GplxListItem } from './codec.js'

type Failure = Extract<DeliveryResult, { ok: false }>

/** The connection settings of a GPLX destination (paths default to the ministry's). */
export type GplxClientSettings = Pick<GplxDestination, 'url' | 'username' | 'password' | 'donViXuLy' | 'timeouts'> & Partial<Pick<GplxDestination, 'authPath' | 'integrationPath' | 'token' | 'concurrency'>>

const rejected = (message: string): Failure => ({ ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED', message, uncertain: false })
const badReply = (message: string): Failure => ({ ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message, uncertain: false })

const errorCode = (body: unknown): string | undefined => {
  const c = (body as { error_code?: unknown } | undefined)?.error_code
  return typeof c === 'string' || typeof c === 'number' ? String(c) : undefined
}

export class GplxClient {
  readonly #cfg: GplxClientSettings
  readonly #pool: Pool
  readonly #base: string
  #session: string | undefined
  #login: Promise<string | Failure> | undefined
  /** Logins performed (for operators and tests). */
  logins = 0

  constructor (cfg: GplxClientSettings) {
    this.#cfg = cfg
    this.#pool = createPool(cfg.url, cfg.timeouts ?? {}, cfg.concurrency ?? 4)
    this.#base = basePath(cfg.url)
  }

  get #headers (): Record<string, string> {
    return this.#cfg.token === undefined ? {} : { authorization: `Bearer ${this.#cfg.token}` }
  }

  #ensureSession (): Promise<string | Failure> {
    if (this.#session !== undefined) return Promise.resolve(this.#session)
    this.#login ??= this.#doLogin().finally(() => { this.#login = undefined })
    return this.#login
  }

  async #doLogin (): Promise<string | Failure> {
    let res
    try {
      res = await postJson(this.#pool, this.#base + (this.#cfg.authPath ?? '/apiDVC-GPLX/tcdbdvcdata/mapi/login'), { username: this.#cfg.username, password: this.#cfg.password }, this.#headers)
    } catch (err) {
      return transportFailure(err)
    }
    if (res.status !== 200) return statusFailure(res.status, res.headers['retry-after'])
    const body = res.body as { session?: unknown, result?: unknown } | undefined
    const code = errorCode(body)
    if (code === undefined) return badReply('GPLX login: reply without error_code')
    if (code !== '0' || typeof body?.session !== 'string' || body.session === '') {
      return rejected(`GPLX login refused: error_code ${code} ${scrub(String(body?.result ?? ''))}`.trim())
    }
    this.logins++
    this.#session = body.session
    return body.session
  }

  /** Calls one service; the reply's body when error_code is "0". */
  async call (service: string, fields: Record<string, unknown>): Promise<{ ok: true, body: Record<string, unknown> } | Failure> {
    let last = ''
    for (let round = 0; round < 2; round++) {
      const session = await this.#ensureSession()
      if (typeof session !== 'string') return session
      let res
      try {
        res = await postJson(this.#pool, this.#base + (this.#cfg.integrationPath ?? '/apiDVC-GPLX/tcdbdvcdata/mapi/g'), { session, service, donViXuLy: this.#cfg.donViXuLy, ...fields }, this.#headers)
      } catch (err) {
        return transportFailure(err)
      }
      if (res.status !== 200) return statusFailure(res.status, res.headers['retry-after'])
      const code = errorCode(res.body)
      if (code === undefined) return badReply(`${service}: reply without error_code`)
      if (code === '0') return { ok: true, body: res.body as Record<string, unknown> }
      // Most often an expired session: drop it (unless another call already replaced it) and log in again.
      last = `error_code ${code} ${scrub(String((res.body as { message?: unknown }).message ?? ''))}`.trim()
      if (this.#session === session) this.#session = undefined
    }
    return rejected(`${service}: ${last} after a fresh login`)
  }

  /** DanhSachHoSo: dossiers received between two dates (yyyy-MM-dd, both included). */
  async list (from: string, to: string): Promise<{ ok: true, items: GplxListItem[] } | Failure> {
    const r = await this.call('DanhSachHoSo', { ngayNhan1: from, ngayNhan2: to })
    if (!r.ok) return r
    const data = r.body.data ?? []
    if (!Array.isArray(data) || !data.every((i: GplxListItem) => typeof i?.maHoSo === 'string' && i.maHoSo !== '')) return badReply('DanhSachHoSo: data is not a list of dossiers')
    return { ok: true, items: data as GplxListItem[] }
  }

  /** TraCuuHoSo: one dossier as the ministry holds it; undefined when it does not know it (`data: []`). */
  async lookUp (maHoSo: string): Promise<{ ok: true, detail: GplxDetail | undefined } | Failure> {
    const r = await this.call('TraCuuHoSo', { mahoso: maHoSo })
    if (!r.ok) return r
    const data = r.body.data ?? []
    if (!Array.isArray(data)) return badReply('TraCuuHoSo: data is not a list')
    const d = data[0] as GplxDetail | undefined
    if (d !== undefined && (typeof d !== 'object' || d === null)) return badReply('TraCuuHoSo: unexpected record')
    return { ok: true, detail: d }
  }

  /** Forgets the session (the next call logs in). */
  dropSession (): void {
    this.#session = undefined
  }

  async close (): Promise<void> {
    await this.#pool.close()
  }
}
