/**
 * One-stop transport: `POST {url}{webhookPath}` with the bearer key the one-stop expects.
 */
import type { Pool } from 'undici'
import type { OnestopDestination } from '../../schemas/types.js'
import { basePath, createPool, postJson, statusFailure, transportFailure } from '../http.js'
import type { DeliveryResult, SignContext } from '../types.js'
import type { WebhookEvent } from './codec.js'

export class OnestopClient {
  readonly #cfg: OnestopDestination
  readonly #pool: Pool
  readonly #path: string

  constructor (cfg: OnestopDestination) {
    this.#cfg = cfg
    this.#pool = createPool(cfg.url, cfg.timeouts, cfg.concurrency)
    this.#path = basePath(cfg.url) + cfg.webhookPath
  }

  async post (event: WebhookEvent, sign?: SignContext): Promise<DeliveryResult> {
    let res
    try {
      res = await postJson(this.#pool, this.#path, event, {
        authorization: `Bearer ${this.#cfg.token}`,
        'idempotency-key': event.eventId
      }, sign)
    } catch (err) {
      return transportFailure(err)
    }
    if (res.status >= 200 && res.status < 300) return { ok: true }
    if (res.status === 401 || res.status === 403) return { ok: false, code: 'LGSP_ERR_UPSTREAM_CREDENTIALS', message: `HTTP ${res.status}: bearer key refused`, uncertain: false }
    return statusFailure(res.status, res.headers['retry-after'])
  }

  async close (): Promise<void> {
    await this.#pool.close()
  }
}
