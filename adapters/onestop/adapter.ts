/**
 * The one-stop adapter: statuses, progress and results produced elsewhere (vertical
 * systems, payments) are posted to the one-stop software's webhook, one event per unit.
 */
import type { OnestopDestination } from '../../schemas/types.js'
import { destinationEnv, signContext, type Adapter, type AdapterOptions, type CanonicalMessage, type DeliveryResult, type DeliveryUnit, type UnitPlan } from '../types.js'
import { OnestopClient } from './client.js'
import { toEvents, type WebhookEvent } from './codec.js'

export type { WebhookEvent } from './codec.js'

export class OnestopAdapter implements Adapter {
  readonly protocol = 'onestop'
  readonly destination: string
  readonly #client: OnestopClient
  readonly #options: AdapterOptions

  constructor (destination: string, cfg: OnestopDestination, options: AdapterOptions = {}) {
    this.destination = destination
    this.#options = options
    this.#client = new OnestopClient(cfg)
  }

  units (message: CanonicalMessage): UnitPlan[] {
    return toEvents(message).map((event) => ({ op: event.type, payload: event }))
  }

  /** Redelivery is safe: the event carries its own Idempotency-Key, so no look-up is needed first. */
  async deliver (unit: DeliveryUnit): Promise<DeliveryResult> {
    const result = await this.#client.post(unit.payload as WebhookEvent, signContext(this.#options, this.destination, unit))
    // 401/403: the one-stop refused the gateway's bearer key, not this event: pause the destination.
    if (!result.ok && result.code === 'LGSP_ERR_UPSTREAM_CREDENTIALS') {
      return { ...result, pause: { fix: `destinations.${this.destination}.token (${destinationEnv(this.destination, 'TOKEN')})` } }
    }
    return result
  }

  close (): Promise<void> {
    return this.#client.close()
  }
}
