/**
 * A stand-in for the provincial one-stop software's webhook: checks the bearer key, keeps
 * every event per dossier, and recognises a redelivered event by its Idempotency-Key
 * (answered 200 again, counted as a duplicate, not applied twice).
 */
import { SimServer } from '../simulator-kit.js'
import type { WebhookEvent } from './codec.js'

export interface OnestopSimulatorOptions {
  token?: string
  webhookPath?: string
  random?: () => number
}

export class OnestopSimulator {
  readonly server: SimServer
  readonly events = new Map<string, WebhookEvent[]>()
  readonly #seen = new Set<string>()
  /** Deliveries of an event already received (harmless thanks to the key). */
  duplicates = 0
  readonly token: string
  readonly webhookPath: string

  constructor (options: OnestopSimulatorOptions = {}) {
    this.token = options.token ?? 'onestop-dev-webhook-key'
    this.webhookPath = options.webhookPath ?? '/lgsp/webhook'
    this.server = new SimServer({
      name: 'onestop',
      random: options.random,
      routes: {
        [`POST ${this.webhookPath}`]: (req) => {
          if (req.headers.authorization !== `Bearer ${this.token}`) return { status: 401, body: { error: 'invalid bearer key' } }
          const e = req.body as WebhookEvent | undefined
          if (e === undefined || typeof e.eventId !== 'string' || typeof e.MaHoSo !== 'string') return { status: 400, body: { error: 'not a webhook event' } }
          const key = String(req.headers['idempotency-key'] ?? e.eventId)
          if (this.#seen.has(key)) {
            this.duplicates++
            return { status: 200, body: { received: true, duplicate: true } }
          }
          this.#seen.add(key)
          const list = this.events.get(e.MaHoSo) ?? []
          list.push(e)
          this.events.set(e.MaHoSo, list)
          return { status: 200, body: { received: true } }
        },
        'GET /_sim/state': () => ({ status: 200, body: { dossiers: this.events.size, events: this.#seen.size, duplicates: this.duplicates, effects: this.server.counters } })
      }
    })
  }

  get url (): string { return this.server.url }

  async start (port = 0): Promise<this> {
    await this.server.start(port)
    return this
  }

  stop (): Promise<void> { return this.server.stop() }
}
