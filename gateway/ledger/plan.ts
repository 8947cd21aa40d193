/**
 * How one accepted message changes the dossier ledger. Pure: given the current rows of the
 * dossiers it touches, it returns the new rows and the history events, or throws an
 * LgspError (illegal transition, unknown dossier). Each store runs it inside its own atomic
 * section, so a check and the write that depends on it can never be split.
 */
import type { HoSo, QuaTrinhXuLy } from '../../schemas/types.js'
import { lgspError } from '../errors.js'
import { parseDvcqgDate } from './dates.js'
import { assertMove, toState, type DossierState } from './state-machine.js'

/** The ledger's row for one dossier. */
export interface DossierRow {
  maHoSo: string
  /** Member that first sent the dossier. */
  owner: string
  maTTHC: string
  state: DossierState
  /** ThoiDiemXuLy (epoch ms) of the latest progress entry that moved the state. */
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
  kind: 'dossier' | 'progress' | 'payment' | 'tax-notice'
  /** Event time: ThoiDiemXuLy for progress, the receive time for a HoSo record. */
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

export interface PlanContext {
  sender: string
  messageId: string
  now: number
}

/** A HoSo record (create or update) for each dossier of a POST /v1/dossiers. */
export function planDossiers (current: ReadonlyMap<string, DossierRow>, records: readonly HoSo[], ctx: PlanContext): LedgerChange {
  const change: LedgerChange = { rows: [], events: [], existed: [] }
  for (const record of records) {
    const before = current.get(record.MaHoSo)
    const to = toState(record.TrangThaiHoSo)
    if (before !== undefined) assertMove(record.MaHoSo, before.state, to)
    change.rows.push({
      maHoSo: record.MaHoSo,
      owner: before?.owner ?? ctx.sender,
      maTTHC: record.MaTTHC,
      state: to,
      lastEventAt: before?.lastEventAt ?? null,
      record,
      version: (before?.version ?? 0) + 1,
      createdAt: before?.createdAt ?? ctx.now,
      updatedAt: ctx.now
    })
    change.existed.push(before !== undefined)
    change.events.push({
      maHoSo: record.MaHoSo,
      messageId: ctx.messageId,
      kind: 'dossier',
      at: ctx.now,
      receivedAt: ctx.now,
      fromState: before?.state ?? null,
      toState: to,
      applied: true,
      sender: ctx.sender
    })
  }
  return change
}

/** Progress entries in ThoiDiemXuLy order (stable: equal times keep the order sent). */
export function inProcessingOrder (entries: readonly QuaTrinhXuLy[]): QuaTrinhXuLy[] {
  return entries
    .map((entry, i) => ({ entry, at: parseDvcqgDate(entry.ThoiDiemXuLy) ?? 0, i }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map((x) => x.entry)
}

/**
 * Progress entries for one dossier, given in ThoiDiemXuLy order (inProcessingOrder); one older
 * than the last applied entry is kept in the history but never moves the state backwards.
 */
export function planProgress (current: ReadonlyMap<string, DossierRow>, maHoSo: string, entries: readonly QuaTrinhXuLy[], ctx: PlanContext): LedgerChange {
  const before = current.get(maHoSo)
  if (before === undefined) {
    throw lgspError('LGSP_ERR_DOSSIER_NOT_FOUND', `Dossier ${maHoSo} is not known to the gateway: post it with POST /v1/dossiers first.`, { maHoSo })
  }
  let state = before.state
  let lastEventAt = before.lastEventAt
  const events: DossierEvent[] = []
  for (const entry of entries) {
    const at = parseDvcqgDate(entry.ThoiDiemXuLy) ?? 0
    const to = toState(entry.TrangThai)
    const stale = lastEventAt !== null && at < lastEventAt
    if (!stale) {
      assertMove(maHoSo, state, to)
    }
    events.push({
      maHoSo,
      messageId: ctx.messageId,
      kind: 'progress',
      at,
      receivedAt: ctx.now,
      fromState: state,
      toState: to,
      applied: !stale,
      sender: ctx.sender
    })
    if (!stale) {
      state = to
      lastEventAt = at
    }
  }
  const row: DossierRow = {
    ...before,
    state,
    lastEventAt,
    record: { ...before.record, TrangThaiHoSo: state },
    version: before.version + 1,
    updatedAt: ctx.now
  }
  return { rows: [row], events, existed: [true] }
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

/** One amount of a tax notice, as a fee line of the dossier. */
export interface TaxAmount {
  TenPhiLePhi: string
  MaPhiLePhi: string
  Gia: number
}

/**
 * A tax notice: the dossier moves to 6 "yêu cầu thực hiện nghĩa vụ tài chính" and the
 * amounts become fee lines (LoaiPhiLePhi "Thuế"), which the one-stop may later ask to pay.
 */
export function planTaxNotice (current: ReadonlyMap<string, DossierRow>, maHoSo: string, amounts: readonly TaxAmount[], at: number, ctx: PlanContext): LedgerChange {
  const before = current.get(maHoSo)
  if (before === undefined) throw lgspError('LGSP_ERR_DOSSIER_NOT_FOUND', `Dossier ${maHoSo} is not known to the gateway.`, { maHoSo })
  assertMove(maHoSo, before.state, 6)
  const lines = amounts.map((a) => ({ ...a, LoaiPhiLePhi: 'Thuế' }))
  const kept = (before.record.DanhSachLePhi ?? []).filter((f) => !lines.some((l) => l.MaPhiLePhi === f.MaPhiLePhi && l.TenPhiLePhi === f.TenPhiLePhi))
  const row: DossierRow = {
    ...before,
    state: 6,
    lastEventAt: Math.max(before.lastEventAt ?? 0, at),
    record: { ...before.record, TrangThaiHoSo: 6, DanhSachLePhi: [...kept, ...lines] },
    version: before.version + 1,
    updatedAt: ctx.now
  }
  const event: DossierEvent = { maHoSo, messageId: ctx.messageId, kind: 'tax-notice', at, receivedAt: ctx.now, fromState: before.state, toState: 6, applied: true, sender: ctx.sender }
  return { rows: [row], events: [event], existed: [true] }
}
