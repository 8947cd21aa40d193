/**
 * DVCQG transport: session login (`POST {base}{auth}` → `{error_code, session}`), cached
 * and shared by concurrent calls; integration calls carry `session` and `madonvi` in the
 * body and a `dstcode` header (the unit's code, as public clients send it). The session is
 * renewed before it expires (DVCQG's sessions last about ten minutes: `sessionRenewMs`);
 * a reply saying it is invalid anyway triggers one fresh login and one resend.
 */
import type { Pool } from 'undici'
import type { DvcqgDestination } from '../../schemas/types.js'
import { scrub } from '../../gateway/logger.js'
import { basePath, createPool, postJson, statusFailure, transportFailure } from '../http.js'
import type { DeliveryResult, SignContext } from '../types.js'
import { classifyReply, type DvcqgReply } from './codec.js'

type Failure = Extract<DeliveryResult, { ok: false }>
/** A call's outcome: DVCQG's reply (whatever it says), or a transport/HTTP failure. */
export type CallOutcome = { ok: true, reply: DvcqgReply } | Failure

/** Every default of the DVCQG client in one place (the config schema carries the same values). */
export const dvcqgClientDefaults = { sessionRenewMs: 10 * 60_000 }

/** What the client takes beside its destination's config. */
export interface DvcqgClientOptions {
  /** The clock the session's age is judged by (tests move it). */
  now?: () => number
}

/** One DVCQG destination's transport: its pool, its session and the calls that use it. */
export class DvcqgClient {
  readonly #cfg: DvcqgDestination
  readonly #pool: Pool
  readonly #base: string
  readonly #now: () => number
  readonly #renewMs: number
  readonly #headers: Record<string, string>
  #session: { id: string, at: number } | undefined
  #login: Promise<string | Failure> | undefined
  /** Logins performed (for operators and tests), and how many of them renewed a session before it expired. */
  logins = 0
  renewals = 0

  constructor (cfg: DvcqgDestination, options: DvcqgClientOptions = {}) {
    this.#cfg = cfg
    this.#pool = createPool(cfg.url, cfg.timeouts, cfg.concurrency)
    this.#base = basePath(cfg.url)
    this.#now = options.now ?? Date.now
    this.#renewMs = cfg.sessionRenewMs ?? dvcqgClientDefaults.sessionRenewMs
    this.#headers = { dstcode: cfg.dstcode ?? cfg.madonvi }
  }

  /** One login at a time: concurrent callers share it. A session older than `sessionRenewMs` is replaced first. */
  #ensureSession (): Promise<string | Failure> {
    const s = this.#session
    if (s !== undefined && this.#now() - s.at < this.#renewMs) return Promise.resolve(s.id)
    this.#login ??= this.#doLogin(s !== undefined).finally(() => { this.#login = undefined })
    return this.#login
  }

  /** A fresh login now (the paused destination's probe): true when DVCQG accepts the credentials. */
  async login (): Promise<true | Failure> {
    this.#session = undefined
    const r = await this.#ensureSession()
    return typeof r === 'string' ? true : r
  }

  async #doLogin (renewing: boolean): Promise<string | Failure> {
    const at = this.#now()
    let res
    try {
      res = await postJson(this.#pool, this.#base + this.#cfg.authPath, { username: this.#cfg.username, password: this.#cfg.password }, this.#headers)
    } catch (err) {
      return transportFailure(err)
    }
    if (res.status !== 200) return statusFailure(res.status, res.headers['retry-after'])
    const reply = classifyReply(res.body)
    if (reply === undefined) return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: 'login reply is not a DVCQG reply', uncertain: false }
    if (reply.cls !== 'ok' || typeof reply.data !== 'string' || reply.data.length === 0) {
      return { ok: false, code: 'LGSP_ERR_DVCQG_LOGIN', message: `error_code ${reply.errorCode}: ${scrub(reply.message)}`, uncertain: false }
    }
    this.logins++
    if (renewing) this.renewals++
    this.#session = { id: reply.data, at }
    return reply.data
  }

  /**
   * Calls an integration service; `fields` are merged after session, madonvi and service.
   * Signed (and logged) with a context. A 5xx once the request went out is uncertain: a
   * proxy or the portal may have failed after applying it.
   */
  async call (service: string, fields: Record<string, unknown>, sign?: SignContext): Promise<CallOutcome> {
    for (let round = 0; round < 2; round++) {
      const session = await this.#ensureSession()
      if (typeof session !== 'string') return session
      let res
      try {
        res = await postJson(this.#pool, this.#base + this.#cfg.integrationPath, { session, madonvi: this.#cfg.madonvi, service, ...fields }, this.#headers, sign)
      } catch (err) {
        return transportFailure(err)
      }
      if (res.status !== 200) {
        const failure = statusFailure(res.status, res.headers['retry-after'])
        return res.status >= 500 ? { ...failure, uncertain: true } : failure
      }
      const reply = classifyReply(res.body)
      if (reply === undefined) return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: `${service}: reply is not a DVCQG reply`, uncertain: true }
      if (reply.cls !== 'session') return { ok: true, reply }
      // The session expired early: drop it (unless another call already replaced it) and log in again.
      if (this.#session?.id === session) this.#session = undefined
    }
    return { ok: false, code: 'LGSP_ERR_DVCQG_SESSION', message: `${service}: session rejected after a fresh login`, uncertain: false }
  }

  async close (): Promise<void> {
    await this.#pool.close()
  }
}
