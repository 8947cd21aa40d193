/**
 * The GPLX adapter. Delivery: dossiers whose procedure names `gplx` are submitted to the
 * ministry. The other direction (dossiers submitted at the ministry, and status changes)
 * is read by the gateway's poller through `client` (DanhSachHoSo, TraCuuHoSo).
 */
import type { GplxDestination } from '../../schemas/types.js'
import { signContext, type Adapter, type AdapterOptions, type CanonicalMessage, type DeliveryResult, type DeliveryUnit, type UnitPlan } from '../types.js'
import { GplxClient } from './client.js'
import { toMinistry } from './codec.js'

export { GplxSimulator, type GplxSimulatorOptions } from './simulator.js'
export { statusMap, toHoSo, toProgress, type GplxChange, type GplxRecord, type GplxStatus, type GplxStep } from './codec.js'

export class GplxAdapter implements Adapter {
  readonly protocol = 'gplx'
  readonly destination: string
  readonly client: GplxClient
  readonly settings: GplxDestination
  readonly #options: AdapterOptions

  constructor (destination: string, cfg: GplxDestination, options: AdapterOptions = {}) {
    this.destination = destination
    this.#options = options
    this.settings = cfg
    this.client = new GplxClient(cfg)
  }

  get sourceMember (): string {
    return this.settings.poll.member
  }

  /** Only the dossier itself goes to the ministry; its progress comes from there. */
  units (message: CanonicalMessage): UnitPlan[] {
    return message.kind === 'dossier' ? [{ op: 'dossier', payload: toMinistry(message.record) }] : []
  }

  /** Submitting twice is harmless (409 counts as held), so no look-up is needed first. */
  deliver (unit: DeliveryUnit): Promise<DeliveryResult> {
    return this.client.submit(unit.payload as Record<string, unknown>, signContext(this.#options, this.destination, unit))
  }

  close (): Promise<void> {
    return this.client.close()
  }
}
