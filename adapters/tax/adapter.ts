/**
 * The tax adapter (SOAP). Delivery: dossiers whose procedure names `tax` are submitted with
 * NopHoSo; an attempt that may have gone through is checked with TraCuuHoSo before it is
 * sent again. Notices come back pushed by DVCQG (routes.ts, the component's routes, reads them with this
 * folder's codec), or, with `notices.poll`, fetched by this folder's notice poller (poller.ts, `notice`).
 */
import { signContext, type Adapter, type AdapterOptions, type CanonicalMessage, type DeliveryResult, type DeliveryUnit, type UnitPlan } from '../types.js'
import { TaxClient, type TaxClientSettings } from './client.js'
import { noticeRows, toSubmission, type TaxNoticeRow } from './codec.js'

type Failure = Extract<DeliveryResult, { ok: false }>

export class TaxAdapter implements Adapter {
  readonly protocol = 'tax'
  readonly destination: string
  readonly client: TaxClient
  readonly noticeMember: string
  readonly #options: AdapterOptions

  constructor (destination: string, settings: TaxClientSettings, noticeMember: string, options: AdapterOptions = {}) {
    this.destination = destination
    this.#options = options
    this.client = new TaxClient(settings)
    this.noticeMember = noticeMember
  }

  /** The notices come back under this member: never route its messages back here. */
  get sourceMember (): string {
    return this.noticeMember
  }

  units (message: CanonicalMessage): UnitPlan[] {
    return message.kind === 'dossier' ? [{ op: 'submit', payload: toSubmission(message.record) }] : []
  }

  async deliver (unit: DeliveryUnit): Promise<DeliveryResult> {
    if (unit.uncertain) {
      const seen = await this.client.call('TraCuuHoSo', { maHoSo: unit.maHoSo })
      if (!seen.ok) return { ...seen, uncertain: true }
      if (String(seen.result.daTiepNhan) === 'true') return { ok: true, note: 'already received by the tax service (TraCuuHoSo)' }
    }
    const r = await this.client.call('NopHoSo', unit.payload as Record<string, unknown>, signContext(this.#options, this.destination, unit))
    return r.ok ? { ok: true } : r
  }

  /** The notice of a submitted dossier, if issued: the XML document as the tax service sent it. */
  async notice (maHoSo: string): Promise<{ ok: true, xml: string | undefined } | Failure> {
    const r = await this.client.call('LayThongBaoThue', { maHoSo })
    if (!r.ok) return r
    return { ok: true, xml: String(r.result.coThongBao) === 'true' && typeof r.result.thongBao === 'string' ? r.result.thongBao : undefined }
  }

  /** Rows of a parsed notice for this dossier, or undefined when it is not a usable notice. */
  rows (doc: Record<string, unknown>, maHoSo: string): TaxNoticeRow[] | undefined {
    return noticeRows(doc, maHoSo)
  }

  async close (): Promise<void> {}
}
