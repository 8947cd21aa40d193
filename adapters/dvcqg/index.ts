/**
 * The DVCQG adapter: dossier sync (DongBoHoSoMC) and progress (CapNhatTienDoHoSoMC).
 *
 * - Create or update: a dossier new to the gateway goes with isUpdating "False"; an
 *   "already exists" reply turns it into an update, and "does not exist" on an update into
 *   a create, so the two sides converge whatever DVCQG held before.
 * - Progress is cut into chunks of `progressChunk` (10) entries, one unit each.
 * - Exactly-once effect: when an earlier attempt may have been applied (timeout, lost
 *   reply, crash), TraCuuHoSo is asked first and only what DVCQG lacks is sent.
 */
import type { DvcqgDestination } from '../../schemas/types.js'
import { scrub } from '../../gateway/logger.js'
import { signContext, type Adapter, type AdapterOptions, type CanonicalMessage, type DeliveryResult, type DeliveryUnit, type UnitPlan } from '../types.js'
import { DvcqgClient, type CallOutcome } from './client.js'
import { canonical, chunk, progressKey, services, toWireHoSo, toWireProgress } from './codec.js'

interface DossierPayload { record: Record<string, unknown>, isUpdating: boolean }
interface ProgressPayload { entries: Array<Record<string, unknown>> }

type Failure = Extract<DeliveryResult, { ok: false }>

/** Maps a DVCQG reply to a delivery result. */
function settle (service: string, outcome: CallOutcome): DeliveryResult {
  if (!outcome.ok) return outcome
  const { reply } = outcome
  if (reply.cls === 'ok') return { ok: true }
  const text = `${service}: error_code ${reply.errorCode}: ${scrub(reply.message)}`
  if (reply.cls === 'busy') return { ok: false, code: 'LGSP_ERR_DVCQG_BUSY', message: text, uncertain: false }
  return { ok: false, code: 'LGSP_ERR_DVCQG_REJECTED', message: text, uncertain: false }
}

export class DvcqgAdapter implements Adapter {
  readonly protocol = 'dvcqg'
  readonly destination: string
  readonly client: DvcqgClient
  readonly #cfg: DvcqgDestination
  readonly #options: AdapterOptions

  constructor (destination: string, cfg: DvcqgDestination, options: AdapterOptions = {}) {
    this.destination = destination
    this.#cfg = cfg
    this.#options = options
    this.client = new DvcqgClient(cfg)
  }

  units (message: CanonicalMessage): UnitPlan[] {
    if (message.kind === 'dossier' || message.kind === 'payment') {
      // A payment re-syncs the dossier: DVCQG's online-payment indicator reads DuocThanhToanTrucTuyen.
      const payload: DossierPayload = { record: toWireHoSo(message.record), isUpdating: message.kind === 'payment' || message.existed }
      return [{ op: 'dossier', payload }]
    }
    if (message.kind === 'tax-notice') return [{ op: 'progress', payload: { entries: [toWireProgress(message.entry)] } satisfies ProgressPayload }]
    const units = chunk(message.entries, this.#cfg.progressChunk)
      .map((entries): UnitPlan => ({ op: 'progress', payload: { entries: entries.map(toWireProgress) } satisfies ProgressPayload }))
    // Some entries were history (older than the dossier's status): DVCQG keeps the latest
    // record, and may take a status from the latest CapNhatTienDoHoSoMC, so the record goes
    // again after them and DVCQG ends where the ledger is.
    if (message.record !== undefined) units.push({ op: 'dossier', payload: { record: toWireHoSo(message.record), isUpdating: true } satisfies DossierPayload })
    return units
  }

  async deliver (unit: DeliveryUnit): Promise<DeliveryResult> {
    if (unit.op === 'dossier') return await this.#syncDossier(unit)
    if (unit.op === 'progress') return await this.#updateProgress(unit)
    return { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED', message: `unknown DVCQG operation ${unit.op}`, uncertain: false }
  }

  /** What DVCQG holds for a dossier (TraCuuHoSo), undefined when it holds nothing (reconciliation uses it too). */
  lookUp (maHoSo: string): Promise<{ ok: true, held: Record<string, unknown> | undefined } | Failure> {
    return this.#lookUp(maHoSo)
  }

  async #lookUp (maHoSo: string): Promise<{ ok: true, held: Record<string, unknown> | undefined } | Failure> {
    const outcome = await this.client.call(services.lookUp, { mahoso: maHoSo })
    // Until DVCQG answers the look-up, the earlier attempt stays uncertain.
    if (!outcome.ok) return { ...outcome, uncertain: true }
    if (outcome.reply.cls === 'missing') return { ok: true, held: undefined }
    const data = outcome.reply.data
    if (outcome.reply.cls !== 'ok') return { ...(settle(services.lookUp, outcome) as Failure), uncertain: true }
    if (data === null || typeof data !== 'object') {
      return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: `${services.lookUp}: no dossier data in the reply`, uncertain: true }
    }
    return { ok: true, held: data as Record<string, unknown> }
  }

  async #syncDossier (unit: DeliveryUnit): Promise<DeliveryResult> {
    const { record, isUpdating } = unit.payload as DossierPayload
    if (unit.uncertain) {
      const look = await this.#lookUp(unit.maHoSo)
      if (!look.ok) return look
      const held = look.held
      // Already applied when DVCQG holds every field as sent.
      if (held !== undefined && Object.keys(record).every((k) => canonical(held[k]) === canonical(record[k]))) {
        return { ok: true, note: 'already held by DVCQG (TraCuuHoSo)' }
      }
    }
    const send = (updating: boolean): Promise<CallOutcome> =>
      this.client.call(services.syncDossier, { isUpdating: updating ? 'True' : 'False', data: [record] }, signContext(this.#options, this.destination, unit))
    let outcome = await send(isUpdating)
    if (outcome.ok && outcome.reply.cls === 'exists' && !isUpdating) outcome = await send(true)
    else if (outcome.ok && outcome.reply.cls === 'missing' && isUpdating) outcome = await send(false)
    return settle(services.syncDossier, outcome)
  }

  async #updateProgress (unit: DeliveryUnit): Promise<DeliveryResult> {
    let { entries } = unit.payload as ProgressPayload
    if (unit.uncertain) {
      const look = await this.#lookUp(unit.maHoSo)
      if (!look.ok) return look
      const have = new Set(((look.held?.QuaTrinhXuLy ?? []) as Array<Record<string, unknown>>).map(progressKey))
      entries = entries.filter((e) => !have.has(progressKey(e)))
      if (entries.length === 0) return { ok: true, note: 'already held by DVCQG (TraCuuHoSo)' }
    }
    return settle(services.updateProgress, await this.client.call(services.updateProgress, { data: entries }, signContext(this.#options, this.destination, unit)))
  }

  async close (): Promise<void> {
    await this.client.close()
  }
}

export { DvcqgSimulator, type DvcqgSimulatorOptions, type HeldDossier } from './simulator.js'
