/**
 * How one accepted message changes the dossier ledger. Pure: given the current rows of the
 * dossiers it touches, it returns the new rows and the history events, or throws an
 * LgspError (illegal transition, unknown dossier). Each store runs it inside its own atomic
 * section, so a check and the write that depends on it can never be split.
 */
import type { NoticeFee } from '../../adapters/registry.js'
import type { HoSo, QuaTrinhXuLy } from '../../schemas/types.js'
import { lgspError } from '../errors.js'
import { parseDvcqgDate } from './dates.js'
import { warning, type Warning } from '../warnings.js'
import { assertMove, canMove, isBehind, isReopen, stateNames, toState, type DossierState } from './state-machine.js'

/** The ledger's row for one dossier. */
export interface DossierRow {
  maHoSo: string
  /** Member that first sent the dossier. */
  owner: string
  maTTHC: string
  state: DossierState
  /**
   * When the dossier reached its current status (epoch ms): the ThoiDiemXuLy of the entry that
   * moved it, or the record's date of that status (recordStatusTime), else the latest of the
   * record's reception dates (a lower bound); null when none is known.
   */
  lastEventAt: number | null
  /** The latest HoSo record as sent. */
  record: HoSo
  version: number
  createdAt: number
  updatedAt: number
}

/** One line of a dossier's history. */
export interface DossierEvent {
  maHoSo: string
  messageId: string
  /** dossier, progress, payment, or a component's notice kind (tax-notice, …). */
  kind: string
  /** Event time: ThoiDiemXuLy for progress; for a HoSo record the date of its status (recordStatusTime), else its arrival. */
  at: number
  receivedAt: number
  fromState: DossierState | null
  toState: DossierState
  /** False for an out-of-order progress entry: kept in the history (toState is what it reported) without moving the state. */
  applied: boolean
  sender: string
}

export interface LedgerChange {
  rows: DossierRow[]
  events: DossierEvent[]
  /** Per row: whether it already existed (DVCQG gets an update rather than a create). */
  existed: boolean[]
}

/** What became of one record or progress entry of a message (the reply lists them). */
export interface ItemOutcome {
  /** applied: moved (or kept) the status; history: kept in the history without moving it back; refused: not applied, not delivered. */
  outcome: 'applied' | 'history' | 'refused'
  code?: 'LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION'
  detail?: string
  from?: DossierState
  to?: DossierState
}

/** A ledger change that also says, per record or entry, what happened and what was normalised. */
export interface PlannedChange extends LedgerChange {
  /** One per record (planDossiers, in the order sent) or entry (planProgress, in processing order). */
  outcomes: ItemOutcome[]
  /** Decisions taken on the sender's behalf (paths index the records or entries as sent). */
  warnings: Warning[]
}

export interface PlanContext {
  sender: string
  messageId: string
  now: number
  /** The body was an array: warning paths index its items (`/2/TrangThai`). */
  indexed?: boolean
}

/** A warning path's prefix for item `i` of a message. */
const itemPath = (ctx: PlanContext, i: number): string => ctx.indexed === true ? `/${i}` : ''

const parse = (d: string | undefined): number | undefined => d === undefined ? undefined : parseDvcqgDate(d)

/**
 * When a record says its status was reached, if it says so: NgayNopHoSo for 1, NgayTiepNhan
 * for 2, NgayTuChoi for 3, NgayKetThucXuLy for 8 and 9, NgayTra for 10. Records at 4–7 carry
 * no date of their status.
 */
export function recordStatusTime (record: HoSo, state: DossierState): number | undefined {
  switch (state) {
    case 1: return parse(record.NgayNopHoSo)
    case 2: return parse(record.NgayTiepNhan)
    case 3: return parse(record.NgayTuChoi) ?? parse(record.NgayKetThucXuLy)
    case 8:
    case 9: return parse(record.NgayKetThucXuLy)
    case 10: return parse(record.NgayTra) ?? parse(record.NgayKetThucXuLy)
    default: return undefined
  }
}

/** The latest of a record's reception dates (NgayNopHoSo, NgayTiepNhan): its status came no earlier. */
function receivedBound (record: HoSo): number | undefined {
  const times = [parse(record.NgayNopHoSo), parse(record.NgayTiepNhan)].filter((t): t is number => t !== undefined)
  return times.length === 0 ? undefined : Math.max(...times)
}

const refused = (maHoSo: string, from: DossierState, to: DossierState): ItemOutcome =>
  ({ outcome: 'refused', code: 'LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION', detail: `Dossier ${maHoSo} cannot go from ${from} (${stateNames[from]}) to ${to} (${stateNames[to]}).`, from, to })

/** When every item of a message is refused, the message is refused as a whole (409), naming the first. */
function refuseAllIfNoneTaken (maHoSo: string, outcomes: readonly ItemOutcome[]): void {
  const first = outcomes[0]
  if (first !== undefined && outcomes.every((o) => o.outcome === 'refused')) assertMove(maHoSo, first.from!, first.to!)
}

/**
 * A HoSo record (create or update) for each dossier of a POST /v1/dossiers. A record is a
 * snapshot: a move forward is applied, a status behind the dossier's (a re-sent older record)
 * updates the other fields and keeps the status, and only an impossible move (out of a final
 * state) refuses that record alone. Every record refused: the message is refused (409).
 */
export function planDossiers (current: ReadonlyMap<string, DossierRow>, records: readonly HoSo[], ctx: PlanContext): PlannedChange {
  const change: PlannedChange = { rows: [], events: [], existed: [], outcomes: [], warnings: [] }
  records.forEach((sent, i) => {
    const before = current.get(sent.MaHoSo)
    const to = toState(sent.TrangThaiHoSo)
    const at = recordStatusTime(sent, to)
    let state = to
    let record = sent
    // Without the date of its status, a record's status was reached after its reception at
    // least: entries older than that are history, and history of an earlier stage sent after
    // the record is recognised by its stage (planProgress).
    let lastEventAt: number | null = at ?? receivedBound(sent) ?? null
    let applied = true
    if (before !== undefined && before.state !== to) {
      const stale = at !== undefined && before.lastEventAt !== null && at < before.lastEventAt
      if (canMove(before.state, to) && !stale) {
        if (isReopen(before.state, to)) change.warnings.push(warning('LGSP_WARN_STATUS_REOPENED', `${itemPath(ctx, i)}/TrangThaiHoSo`))
      } else if (stale || isBehind(before.state, to)) {
        // DVCQG keeps the latest record: it gets this one with the status the dossier really has.
        state = before.state
        record = { ...sent, TrangThaiHoSo: before.state }
        lastEventAt = before.lastEventAt
        applied = false
        change.warnings.push(warning('LGSP_WARN_STATUS_BEHIND', `${itemPath(ctx, i)}/TrangThaiHoSo`))
      } else {
        change.outcomes.push(refused(sent.MaHoSo, before.state, to))
        return
      }
    } else if (before !== undefined) {
      // The same status again (other fields updated): it was reached when it was first reported.
      lastEventAt = before.lastEventAt ?? lastEventAt
    }
    change.outcomes.push(applied ? { outcome: 'applied' } : { outcome: 'history', from: before!.state, to })
    change.rows.push({
      maHoSo: sent.MaHoSo,
      owner: before?.owner ?? ctx.sender,
      maTTHC: sent.MaTTHC,
      state,
      lastEventAt,
      record,
      version: (before?.version ?? 0) + 1,
      createdAt: before?.createdAt ?? ctx.now,
      updatedAt: ctx.now
    })
    change.existed.push(before !== undefined)
    change.events.push({
      maHoSo: sent.MaHoSo,
      messageId: ctx.messageId,
      kind: 'dossier',
      // Event time where the record says it; a record without the date of its status is timed by its arrival.
      at: at ?? ctx.now,
      receivedAt: ctx.now,
      fromState: before?.state ?? null,
      toState: to,
      applied,
      sender: ctx.sender
    })
  })
  refuseAllIfNoneTaken(records[0]?.MaHoSo ?? '', change.outcomes)
  return change
}

/** A progress entry with its index as sent. */
export interface IndexedEntry {
  entry: QuaTrinhXuLy
  /** Position in the request body (0 for a single entry). */
  index: number
}

/** Progress entries in ThoiDiemXuLy order (stable: equal times keep the order sent), each with its index as sent. */
export function inProcessingOrder (entries: readonly QuaTrinhXuLy[]): IndexedEntry[] {
  return entries
    .map((entry, index) => ({ entry, index, at: parseDvcqgDate(entry.ThoiDiemXuLy) ?? 0 }))
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map(({ entry, index }) => ({ entry, index }))
}

/**
 * Progress entries for one dossier, given in ThoiDiemXuLy order (inProcessingOrder). Each is
 * decided on its own, in event time:
 * - older than the dossier's current status (lastEventAt), or not a move and of an earlier
 *   stage (or the same instant): history, kept without moving the status back (a one-stop
 *   that sends the record first, then the whole history starting at 2);
 * - an allowed move: applied;
 * - otherwise (impossible: between final states, 9 to 3 or 7): refused alone; the others
 *   still apply.
 * Every entry refused: the message is refused (409).
 */
export function planProgress (current: ReadonlyMap<string, DossierRow>, maHoSo: string, entries: readonly IndexedEntry[], ctx: PlanContext): PlannedChange {
  const before = current.get(maHoSo)
  if (before === undefined) {
    throw lgspError('LGSP_ERR_DOSSIER_NOT_FOUND', `Dossier ${maHoSo} is not known to the gateway: post it with POST /v1/dossiers first.`, { maHoSo })
  }
  let state = before.state
  let lastEventAt = before.lastEventAt
  const events: DossierEvent[] = []
  const outcomes: ItemOutcome[] = []
  const warnings: Warning[] = []
  for (const { entry, index } of entries) {
    const at = parseDvcqgDate(entry.ThoiDiemXuLy) ?? 0
    const to = toState(entry.TrangThai)
    const older = lastEventAt !== null && at < lastEventAt
    const legal = canMove(state, to)
    let outcome: ItemOutcome
    if (legal && !older) {
      if (isReopen(state, to)) warnings.push(warning('LGSP_WARN_STATUS_REOPENED', `${itemPath(ctx, index)}/TrangThai`))
      outcome = { outcome: 'applied' }
    } else if (older || (!legal && (isBehind(state, to) || at === lastEventAt))) {
      warnings.push(warning('LGSP_WARN_ENTRY_HISTORY', `${itemPath(ctx, index)}/ThoiDiemXuLy`))
      outcome = { outcome: 'history', from: state, to }
    } else {
      warnings.push(warning('LGSP_WARN_ENTRY_REFUSED', `${itemPath(ctx, index)}/TrangThai`))
      outcomes.push(refused(maHoSo, state, to))
      continue
    }
    outcomes.push(outcome)
    const apply = outcome.outcome === 'applied'
    events.push({ maHoSo, messageId: ctx.messageId, kind: 'progress', at, receivedAt: ctx.now, fromState: state, toState: to, applied: apply, sender: ctx.sender })
    if (apply) {
      state = to
      lastEventAt = at
    }
  }
  refuseAllIfNoneTaken(maHoSo, outcomes)
  const row: DossierRow = {
    ...before,
    state,
    lastEventAt,
    record: { ...before.record, TrangThaiHoSo: state },
    version: before.version + 1,
    updatedAt: ctx.now
  }
  return { rows: [row], events, existed: [true], outcomes, warnings }
}

/** What a confirmed payment changes in the dossier's record (the online-payment indicator reads it). */
export interface PaymentFacts {
  /** DuocThanhToanTrucTuyen to set: "1" paid on DVCQG, "2" through a ministry/province gateway. */
  paidFlag: '1' | '2'
  fees: Array<{ TenPhiLePhi: string, MaPhiLePhi?: string, LoaiPhiLePhi?: string, Gia: number }>
  /** ThoiGianGD of the payment, epoch ms. */
  paidAt: number
}

/**
 * A confirmed payment: the record gets DuocThanhToanTrucTuyen and the paid fee lines (fee
 * lines of the same name are replaced); the state does not move.
 */
export function planPayment (current: ReadonlyMap<string, DossierRow>, maHoSo: string, facts: PaymentFacts, ctx: PlanContext): LedgerChange {
  const before = current.get(maHoSo)
  if (before === undefined) throw lgspError('LGSP_ERR_DOSSIER_NOT_FOUND', `Dossier ${maHoSo} is not known to the gateway.`, { maHoSo })
  const paid = facts.fees.map((f) => ({ ...f, HinhThucThu: 'Trực tuyến' }))
  const kept = (before.record.DanhSachLePhi ?? []).filter((f) => !paid.some((p) => p.TenPhiLePhi === f.TenPhiLePhi))
  const row: DossierRow = {
    ...before,
    record: { ...before.record, DuocThanhToanTrucTuyen: facts.paidFlag, DanhSachLePhi: [...kept, ...paid] },
    version: before.version + 1,
    updatedAt: ctx.now
  }
  const event: DossierEvent = {
    maHoSo, messageId: ctx.messageId, kind: 'payment', at: facts.paidAt, receivedAt: ctx.now,
    fromState: before.state, toState: before.state, applied: true, sender: ctx.sender
  }
  return { rows: [row], events: [event], existed: [true] }
}

/**
 * A component's notice (the tax service's tax notice, …): the dossier moves to `toState`
 * and the fee lines replace the dossier's lines of the same code and name. `kind` is the
 * component's own message kind: it names the event in the dossier's history.
 */
export function planNotice (current: ReadonlyMap<string, DossierRow>, maHoSo: string, notice: { kind: string, toState: DossierState, fees: readonly NoticeFee[] }, at: number, ctx: PlanContext): LedgerChange {
  const before = current.get(maHoSo)
  if (before === undefined) throw lgspError('LGSP_ERR_DOSSIER_NOT_FOUND', `Dossier ${maHoSo} is not known to the gateway.`, { maHoSo })
  assertMove(maHoSo, before.state, notice.toState)
  const lines = notice.fees.map((f) => ({ ...f }))
  const kept = (before.record.DanhSachLePhi ?? []).filter((f) => !lines.some((l) => l.MaPhiLePhi === f.MaPhiLePhi && l.TenPhiLePhi === f.TenPhiLePhi))
  const row: DossierRow = {
    ...before,
    state: notice.toState,
    lastEventAt: Math.max(before.lastEventAt ?? 0, at),
    record: { ...before.record, TrangThaiHoSo: notice.toState, DanhSachLePhi: [...kept, ...lines] },
    version: before.version + 1,
    updatedAt: ctx.now
  }
  const event: DossierEvent = { maHoSo, messageId: ctx.messageId, kind: notice.kind, at, receivedAt: ctx.now, fromState: before.state, toState: notice.toState, applied: true, sender: ctx.sender }
  return { rows: [row], events: [event], existed: [true] }
}
