/**
 * The GPLX adapter: a consumer only. The ministry's service, as provinces call it, answers
 * reads (DanhSachHoSo, TraCuuHoSo, LayTaiLieuHoSo) and takes nothing from the province:
 * driver-licence dossiers are received on the ministry's own channel. So no delivery unit
 * is ever cut for it; its poller (poller.ts) reads it through `client` and brings its dossiers
 * and status changes in under `poll.member`.
 */
import type { GplxDestination } from '../../schemas/types.js'
import type { Adapter, AdapterOptions, DeliveryResult, UnitPlan } from '../types.js'
import { GplxClient } from './client.js'

export class GplxAdapter implements Adapter {
  readonly protocol = 'gplx'
  readonly destination: string
  readonly client: GplxClient
  readonly settings: GplxDestination

  constructor (destination: string, cfg: GplxDestination, _options: AdapterOptions = {}) {
    this.destination = destination
    this.settings = cfg
    this.client = new GplxClient(cfg)
  }

  get sourceMember (): string {
    return this.settings.poll.member
  }

  /** Nothing goes to the ministry: it serves reads only. */
  units (): UnitPlan[] {
    return []
  }

  /** Never called (no units); answers a permanent refusal should a unit ever be replayed here. */
  async deliver (): Promise<DeliveryResult> {
    return { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED', message: 'GPLX takes no messages from the province (read-only service)', uncertain: false }
  }

  close (): Promise<void> {
    return this.client.close()
  }
}
