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
import type { HoSo } from '../../schemas/types.js'
import { destinationEnv, signContext, type Adapter, type AdapterOptions, type CanonicalMessage, type CatalogueSource, type DeliveryResult, type DeliveryUnit, type UnitPlan } from '../types.js'
import { DvcqgClient, type CallOutcome, type DvcqgClientOptions } from './client.js'
import { canonical, chunk, fromWireAgency, fromWireProcedure, progressKey, services, statusOf, toWireHoSo, toWireProgress, toWireStatus, type DvcqgAgency, type DvcqgProcedure } from './codec.js'

interface DossierPayload { record: Record<string, unknown>, isUpdating: boolean }
interface ProgressPayload { entries: Array<Record<string, unknown>> }
interface StatusPayload { data: Record<string, unknown> }

/** What the adapter's constructor takes beside the registry's options. */
export type DvcqgAdapterOptions = AdapterOptions & DvcqgClientOptions

type Failure = Extract<DeliveryResult, { ok: false }>

/** A DongBoHoSoMC that went through: DVCQG holds the dossier (Decision 766 dossier sync), recorded with the completion. */
function synced (maHoSo: string, result: DeliveryResult): DeliveryResult {
  return result.ok ? { ...result, effects: [...(result.effects ?? []), { kind: 'dossier-synced', maHoSo }] } : result
}

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
  /** DVCQG publishes the national procedure catalogue (LayDanhSachTTHC, LayThuTuc, LayDanhMucCoQuan). */
  readonly catalogue: CatalogueSource = this

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
    const entries = message.kind === 'notice' ? [message.entry] : message.entries
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
    if (unit.op === 'dossier') return this.#pauseOnLogin(synced(unit.maHoSo, await this.#syncDossier(unit)))
    if (unit.op === 'progress') return this.#pauseOnLogin(await this.#updateProgress(unit))
    if (unit.op === 'status') return this.#pauseOnLogin(await this.#syncStatus(unit))
    return { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED', message: `unknown DVCQG operation ${unit.op}`, uncertain: false }
  }

  /** Sends the ledger's record of a dossier DVCQG said it does not hold (a create; "already exists" turns it into an update). */
  async resync (unit: DeliveryUnit, record: HoSo): Promise<DeliveryResult> {
    const payload: DossierPayload = { record: toWireHoSo(record), isUpdating: false }
    return this.#pauseOnLogin(synced(unit.maHoSo, await this.#syncDossier({ ...unit, op: 'dossier', uncertain: false, payload })))
  }

  /** While paused: a fresh login says whether the username and password work again. */
  async probe (): Promise<DeliveryResult> {
    const r = await this.client.login()
    return r === true ? { ok: true } : this.#pauseOnLogin(r)
  }

  /** A refused login is the gateway's password, not the message: the destination pauses until it works. */
  #pauseOnLogin (result: DeliveryResult): DeliveryResult {
    if (result.ok || result.code !== 'LGSP_ERR_DVCQG_LOGIN') return result
    const fix = `destinations.${this.destination}.username and destinations.${this.destination}.password (${destinationEnv(this.destination, 'PASSWORD')})`
    return { ...result, pause: { fix } }
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
    const outcome = await this.client.call(services.updateProgress, { data: entries }, signContext(this.#options, this.destination, unit))
    // "Hồ sơ không tồn tại": DVCQG lost (or never got) the dossier; the worker re-syncs it and sends the entries again.
    if (outcome.ok && outcome.reply.cls === 'missing') return { ...(settle(services.updateProgress, outcome) as Failure), resync: true }
    return settle(services.updateProgress, outcome)
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
    const outcome = await this.client.call(services.syncStatus, { type: '2', data }, signContext(this.#options, this.destination, unit))
    if (outcome.ok && outcome.reply.cls === 'missing') return { ...(settle(services.syncStatus, outcome) as Failure), resync: true }
    return settle(services.syncStatus, outcome)
  }

  async close (): Promise<void> {
    await this.client.close()
  }
}

export type { DvcqgAgency, DvcqgProcedure } from './codec.js'
