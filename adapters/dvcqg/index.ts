/**
 * The DVCQG adapter: dossier sync (DongBoHoSoMC), progress (CapNhatTienDoHoSoMC), the
 * status alone (DongBoTrangThaiHoSo, with `statusSync`), and catalogue reads (LayDanhSachTTHC,
 * LayThuTuc, LayDanhMucCoQuan) for the catalogue-sync job.
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
import { DvcqgClient, type CallOutcome, type DvcqgClientOptions } from './client.js'
import { canonical, chunk, fromWireAgency, fromWireProcedure, progressKey, services, statusOf, toWireHoSo, toWireProgress, toWireStatus, type DvcqgAgency, type DvcqgProcedure } from './codec.js'

interface DossierPayload { record: Record<string, unknown>, isUpdating: boolean }
interface ProgressPayload { entries: Array<Record<string, unknown>> }
interface StatusPayload { data: Record<string, unknown> }

/** What the adapter's constructor takes beside the registry's options. */
export type DvcqgAdapterOptions = AdapterOptions & DvcqgClientOptions

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

  constructor (destination: string, cfg: DvcqgDestination, options: DvcqgAdapterOptions = {}) {
    this.destination = destination
    this.#cfg = cfg
    this.#options = options
    this.client = new DvcqgClient(cfg, options.now === undefined ? {} : { now: options.now })
  }

  units (message: CanonicalMessage): UnitPlan[] {
    if (message.kind === 'dossier' || message.kind === 'payment') {
      // A payment re-syncs the dossier: DVCQG's online-payment indicator reads DuocThanhToanTrucTuyen.
      const payload: DossierPayload = { record: toWireHoSo(message.record), isUpdating: message.kind === 'payment' || message.existed }
      return [{ op: 'dossier', payload }]
    }
    const entries = message.kind === 'tax-notice' ? [message.entry] : message.entries
    const plans = chunk(entries, this.#cfg.progressChunk)
      .map((part): UnitPlan => ({ op: 'progress', payload: { entries: part.map(toWireProgress) } satisfies ProgressPayload }))
    const last = entries.at(-1)
    if (message.kind === 'progress' && message.record !== undefined) {
      // History went last (entries older than the dossier's status): DVCQG keeps the latest
      // record, and may take a status from the latest CapNhatTienDoHoSoMC, so the record goes
      // again after them and DVCQG ends where the ledger is.
      plans.push({ op: 'dossier', payload: { record: toWireHoSo(message.record), isUpdating: true } satisfies DossierPayload })
    } else if (this.#cfg.statusSync === true && last !== undefined) {
      // With statusSync the latest entry's status follows on its own (DongBoTrangThaiHoSo), after the progress it belongs to.
      plans.push({ op: 'status', payload: { data: toWireStatus(last) } satisfies StatusPayload })
    }
    return plans
  }

  async deliver (unit: DeliveryUnit): Promise<DeliveryResult> {
    if (unit.op === 'dossier') return await this.#syncDossier(unit)
    if (unit.op === 'progress') return await this.#updateProgress(unit)
    if (unit.op === 'status') return await this.#syncStatus(unit)
    return { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED', message: `unknown DVCQG operation ${unit.op}`, uncertain: false }
  }

  /** Every procedure DVCQG lists (LayDanhSachTTHC): codes and names, sometimes the field. */
  async listProcedures (): Promise<{ ok: true, procedures: DvcqgProcedure[] } | Failure> {
    const rows = await this.#read(services.procedures, {})
    return rows.ok ? { ok: true, procedures: rows.rows.map(fromWireProcedure).filter((p) => p !== undefined) } : rows
  }

  /** One procedure in detail (LayThuTuc by `maTTHC`): field, fees, duration when DVCQG gives them; undefined when unknown. */
  async procedure (maTTHC: string): Promise<{ ok: true, procedure: DvcqgProcedure | undefined } | Failure> {
    const rows = await this.#read(services.procedure, { maTTHC })
    return rows.ok ? { ok: true, procedure: rows.rows.map(fromWireProcedure).find((p) => p?.MaTTHC === maTTHC) } : rows
  }

  /** DVCQG's agencies (LayDanhMucCoQuan). */
  async listAgencies (): Promise<{ ok: true, agencies: DvcqgAgency[] } | Failure> {
    const rows = await this.#read(services.agencies, {})
    return rows.ok ? { ok: true, agencies: rows.rows.map(fromWireAgency).filter((a) => a !== undefined) } : rows
  }

  /** A read-only service whose rows come in `result`. */
  async #read (service: string, fields: Record<string, unknown>): Promise<{ ok: true, rows: unknown[] } | Failure> {
    const outcome = await this.client.call(service, fields)
    if (!outcome.ok) return outcome
    if (outcome.reply.cls !== 'ok') return settle(service, outcome) as Failure
    return { ok: true, rows: outcome.reply.result ?? [] }
  }

  /** What DVCQG holds for a dossier (TraCuuHoSo), undefined when it holds nothing (reconciliation uses it too). */
  lookUp (maHoSo: string): Promise<{ ok: true, held: Record<string, unknown> | undefined } | Failure> {
    return this.#lookUp(maHoSo)
  }

  /** TraCuuHoSo by `mahoso`: `result: [record]` (its QuaTrinhXuLy inside), `result: []` when DVCQG holds nothing. */
  async #lookUp (maHoSo: string): Promise<{ ok: true, held: Record<string, unknown> | undefined } | Failure> {
    const outcome = await this.client.call(services.lookUp, { mahoso: maHoSo })
    // Until DVCQG answers the look-up, the earlier attempt stays uncertain.
    if (!outcome.ok) return { ...outcome, uncertain: true }
    // Some deployments answer an unknown dossier with "không tồn tại" instead of an empty result.
    if (outcome.reply.cls === 'missing') return { ok: true, held: undefined }
    if (outcome.reply.cls !== 'ok') return { ...(settle(services.lookUp, outcome) as Failure), uncertain: true }
    const rows = outcome.reply.result
    if (rows === undefined) {
      return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: `${services.lookUp}: no result list in the reply`, uncertain: true }
    }
    const held = rows.find((r): r is Record<string, unknown> => r !== null && typeof r === 'object' && (r as Record<string, unknown>).MaHoSo === maHoSo) ??
      (rows.length === 1 && rows[0] !== null && typeof rows[0] === 'object' ? rows[0] as Record<string, unknown> : undefined)
    if (held === undefined && rows.length > 0) {
      return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: `${services.lookUp}: the result does not name the dossier asked for`, uncertain: true }
    }
    return { ok: true, held }
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

  async #syncStatus (unit: DeliveryUnit): Promise<DeliveryResult> {
    const { data } = unit.payload as StatusPayload
    if (unit.uncertain) {
      const look = await this.#lookUp(unit.maHoSo)
      if (!look.ok) return look
      if (look.held !== undefined && look.held.TrangThaiHoSo !== undefined && String(look.held.TrangThaiHoSo) === statusOf(data)) {
        return { ok: true, note: 'already held by DVCQG (TraCuuHoSo)' }
      }
    }
    return settle(services.syncStatus, await this.client.call(services.syncStatus, { type: '2', data }, signContext(this.#options, this.destination, unit)))
  }

  async close (): Promise<void> {
    await this.client.close()
  }
}

export { DvcqgSimulator, sampleAgencies, sampleProcedures, type DvcqgSimulatorOptions, type HeldDossier } from './simulator.js'
export type { DvcqgAgency, DvcqgProcedure } from './codec.js'
