/**
 * DVCQG transport: session login (`POST {base}{auth}` → `{error_code: 0, session}`), cached
 * and shared by concurrent calls; integration calls carry `session` and `madonvi`. A reply
 * saying the session is invalid triggers one fresh login and one resend.
 */
import type { Pool } from 'undici'
import type { DvcqgDestination } from '../../schemas/types.js'
import { scrub } from '../../gateway/logger.js'
import { basePath, createPool, postJson, statusFailure, transportFailure } from '../http.js'
import type { DeliveryResult, SignContext } from '../types.js'
import { classifyReply, type DvcqgReply } from './codec.js'

type Failure = Extract<DeliveryResult, { ok: false }>
export type CallOutcome = { ok: true, reply: DvcqgReply } | Failure

export class DvcqgClient {
  readonly #cfg: DvcqgDestination
  readonly #pool: Pool
  readonly #base: string
  #session: string | undefined
  #login: Promise<string | Failure> | undefined
  /** Logins performed (for operators and tests). */
  logins = 0

  constructor (cfg: DvcqgDestination) {
    this.#cfg = cfg
    this.#pool = createPool(cfg.url, cfg.timeouts, cfg.concurrency)
    this.#base = basePath(cfg.url)
  }

  /** One login at a time: concurrent callers share it. */
  #ensureSession (): Promise<string | Failure> {
    if (this.#session !== undefined) return Promise.resolve(this.#session)
    this.#login ??= this.#doLogin().finally(() => { this.#login = undefined })
    return this.#login
  }

  async #doLogin (): Promise<string | Failure> {
    let res
    try {
      res = await postJson(this.#pool, this.#base + this.#cfg.authPath, { username: this.#cfg.username, password: this.#cfg.password })
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
    this.#session = reply.data
    return reply.data
  }

  /** Calls an integration service; `fields` are merged after session, madonvi and service. Signed (and logged) with a context. */
  async call (service: string, fields: Record<string, unknown>, sign?: SignContext): Promise<CallOutcome> {
    for (let round = 0; round < 2; round++) {
      const session = await this.#ensureSession()
      if (typeof session !== 'string') return session
      let res
      try {
        res = await postJson(this.#pool, this.#base + this.#cfg.integrationPath, { session, madonvi: this.#cfg.madonvi, service, ...fields }, {}, sign)
      } catch (err) {
        return transportFailure(err)
      }
      if (res.status !== 200) return statusFailure(res.status, res.headers['retry-after'])
      const reply = classifyReply(res.body)
      if (reply === undefined) return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: `${service}: reply is not a DVCQG reply`, uncertain: true }
      if (reply.cls !== 'session') return { ok: true, reply }
      // The session expired: drop it (unless another call already replaced it) and log in again.
      if (this.#session === session) this.#session = undefined
    }
    return { ok: false, code: 'LGSP_ERR_DVCQG_SESSION', message: `${service}: session rejected after a fresh login`, uncertain: false }
  }

  async close (): Promise<void> {
    await this.#pool.close()
  }
}
