/**
 * Decision 766/QĐ-TTg indicators from the ledger.
 *
 * Each dossier carries a row of facts, updated incrementally as its events are accepted (so
 * no query ever rescans events): when it was received and is due, when it ended, how many
 * supplements were asked and how long it waited for them, its channel, fees, payment,
 * digitisation, and whether DVCQG has it. The indicators of an agency and period are sums
 * over those rows. The rules (Decision 766/QĐ-TTg, its indicators computed from dossier data):
 * - on time: end ≤ due, where the end is the first of 9, 10, 8 or 3; time waiting for a
 *   supplement (status 5 until it is supplied) is not counted; more than one supplement is
 *   overdue; a dossier unfinished at the end of the period is judged then. Withdrawn
 *   dossiers (7) and dossiers with no due date are not judged.
 * - online submission: KenhThucHien 2 ÷ received, times the sync rate.
 * - online payment: DuocThanhToanTrucTuyen 1 or 2 ÷ received dossiers of fee-bearing
 *   procedures whose fees are not all 0.
 * - digitisation: digitised attachments and a result file ÷ received; reuse:
 *   HoSoCoThanhPhanSoHoa 1 or some TaiLieuNop.DuocSoHoa 1 ÷ received.
 * - dossier sync: received dossiers that DVCQG holds ÷ received.
 * Scoring: a rate at or above its target earns full points, below it rate × max ÷ target.
 */
import type { Catalogue } from '../catalogue.js'
import { lgspError } from '../errors.js'
import { parseDvcqgDate, vnMonthStart, type WorkingCalendar } from './dates.js'
import type { DossierEvent, DossierRow } from './plan.js'

/** What the indicators need to know of one dossier. */
export interface DossierFacts {
  maHoSo: string
  /** The receiving agency's electronic code: MaHoSo up to its first "-". */
  agency: string
  maTTHC: string
  state: number
  receivedAt: number | null
  dueAt: number | null
  endedAt: number | null
  supplements: number
  /** Time spent waiting for supplements that were supplied. */
  pausedMs: number
  /** Waiting for a supplement since (still in 5). */
  pauseSince: number | null
  online: boolean
  feeBearing: boolean
  paidOnline: boolean
  digitised: boolean
  reuse: boolean
  synced: boolean
}

export const agencyOf = (maHoSo: string): string => maHoSo.split('-')[0] ?? maHoSo

const flag = (v: unknown): boolean => String(v) === '1'
const ENDS = new Set([3, 8, 9, 10])

/** The facts after a message: `prev` (or none), the dossier's new row, and the message's events in order. */
export function updateFacts (prev: DossierFacts | undefined, row: DossierRow, events: readonly DossierEvent[], catalogue: Catalogue, calendar: WorkingCalendar): DossierFacts {
  const r = row.record
  const receivedAt = r.NgayTiepNhan === undefined ? null : parseDvcqgDate(r.NgayTiepNhan) ?? null
  let dueAt = r.NgayHenTra === undefined ? null : parseDvcqgDate(r.NgayHenTra) ?? null
  const procedure = catalogue.get(r.MaTTHC)
  // An attachment the one-stop removed (TaiLieuNop[].IsDeleted "True") counts for nothing.
  const files = (r.TaiLieuNop ?? []).filter((t) => String(t.IsDeleted).toLowerCase() !== 'true')
  if (dueAt === null && receivedAt !== null && procedure !== undefined) dueAt = calendar.addWorkingDays(receivedAt, procedure.SoNgayGiaiQuyet)
  const f: DossierFacts = {
    maHoSo: row.maHoSo,
    agency: agencyOf(row.maHoSo),
    maTTHC: r.MaTTHC,
    state: row.state,
    receivedAt,
    dueAt,
    endedAt: prev?.endedAt ?? null,
    supplements: prev?.supplements ?? 0,
    pausedMs: prev?.pausedMs ?? 0,
    pauseSince: prev?.pauseSince ?? null,
    online: String(r.KenhThucHien) === '2',
    feeBearing: procedure?.CoPhiLePhi === true && (r.DanhSachLePhi ?? []).some((x) => (x.Gia ?? 0) > 0),
    paidOnline: ['1', '2'].includes(String(r.DuocThanhToanTrucTuyen)),
    digitised: files.some((t) => flag(t.DuocSoHoa)) && (r.DanhSachGiayToKetQua ?? []).length > 0,
    reuse: flag(r.HoSoCoThanhPhanSoHoa) || files.some((t) => flag(t.DuocSoHoa)),
    synced: prev?.synced ?? false
  }
  for (const e of events) {
    // An entry that moved nothing but reports an end dates the end of a dossier that has ended,
    // when nothing earlier did: a record at 10 without NgayTra (timed by its arrival), then its
    // progress history with the 9 and the 10 (a client that sends the record first, then the
    // whole QuaTrinhXuLy history from status 2).
    if ((!e.applied || e.fromState === e.toState) && ENDS.has(e.toState) && ENDS.has(row.state) && f.endedAt !== null) f.endedAt = Math.min(f.endedAt, e.at)
    if (!e.applied || e.fromState === e.toState) continue
    // Reported processed (9), then back in processing or stopped: the 9 was not its end.
    if (e.fromState === 9 && e.toState !== 10) f.endedAt = null
    if (e.toState === 5) {
      f.supplements++
      f.pauseSince = e.at
    } else if (e.fromState === 5 && f.pauseSince !== null) {
      f.pausedMs += Math.max(0, e.at - f.pauseSince)
      f.pauseSince = null
    }
    if (ENDS.has(e.toState) && f.endedAt === null) f.endedAt = e.at
  }
  // A HoSo record may say when it ended, and list its supplements, more precisely than its events.
  const recordEnd = [r.NgayKetThucXuLy, r.NgayTuChoi].map((d) => d === undefined ? undefined : parseDvcqgDate(d)).find((d) => d !== undefined)
  if (recordEnd !== undefined && ENDS.has(row.state)) f.endedAt = f.endedAt === null ? recordEnd : Math.min(f.endedAt, recordEnd)
  f.supplements = Math.max(f.supplements, (r.DanhSachHoSoBoSung ?? []).length)
  return f
}

/** A reporting period: `2024-02`, `2024-Q1` or `2024`, in Vietnam time. */
export interface Period { label: string, from: number, to: number }

export function parsePeriod (label: string): Period {
  let m = /^(\d{4})-(\d{2})$/.exec(label)
  if (m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 12) return { label, from: vnMonthStart(Number(m[1]), Number(m[2]) - 1), to: vnMonthStart(Number(m[1]), Number(m[2])) }
  m = /^(\d{4})-Q([1-4])$/.exec(label)
  if (m !== null) return { label, from: vnMonthStart(Number(m[1]), (Number(m[2]) - 1) * 3), to: vnMonthStart(Number(m[1]), Number(m[2]) * 3) }
  m = /^(\d{4})$/.exec(label)
  if (m !== null) return { label, from: vnMonthStart(Number(m[1]), 0), to: vnMonthStart(Number(m[1]) + 1, 0) }
  throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'period is yyyy-MM, yyyy-Qn or yyyy.')
}

/** The scored dossier-data indicators: group, points and target (Decision 766/QĐ-TTg's 100-point table). */
export const indicatorDefs = [
  { key: 'dossierSync', group: 'publicity', name: 'Đồng bộ hồ sơ', max: 6, target: 1 },
  { key: 'onTime', group: 'progress', name: 'Giải quyết đúng hạn', max: 20, target: 1 },
  { key: 'onlineSubmission', group: 'onlineService', name: 'Tỷ lệ nộp hồ sơ trực tuyến', max: 6, target: 0.5 },
  { key: 'paidOnline', group: 'onlinePayment', name: 'Hồ sơ thanh toán trực tuyến', max: 6, target: 1 },
  { key: 'digitisedResults', group: 'digitisation', name: 'Số hóa hồ sơ, kết quả', max: 4, target: 0.8 },
  { key: 'reuse', group: 'digitisation', name: 'Tái sử dụng dữ liệu số hóa', max: 2, target: 0.8 }
] as const

export type IndicatorKey = typeof indicatorDefs[number]['key']

export interface IndicatorValue {
  key: IndicatorKey
  group: string
  name: string
  numerator: number
  denominator: number
  /** null when nothing could be judged (denominator 0). */
  rate: number | null
  points: number | null
  max: number
  target: number
  /** With drill-down: the dossiers behind each count. */
  dossiers?: { numerator: string[], denominator: string[] }
}

export interface IndicatorReport {
  agency: string
  period: string
  received: number
  indicators: IndicatorValue[]
  groups: Array<{ group: string, points: number, scoredMax: number }>
  total: { points: number, scoredMax: number }
}

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d

/** Whether a dossier was handled on time, judged at `judgeAt` when unfinished then. */
export function onTime (f: DossierFacts, judgeAt: number): boolean {
  if (f.supplements > 1 || f.dueAt === null) return false
  const end = f.endedAt !== null && f.endedAt < judgeAt ? f.endedAt : judgeAt
  const openPause = f.pauseSince !== null && f.pauseSince < end ? end - f.pauseSince : 0
  return end <= f.dueAt + f.pausedMs + openPause
}

/** The counts behind the indicators (what the store can also sum without reading rows). */
export interface IndicatorCounts {
  received: number
  synced: number
  online: number
  feeBearing: number
  paidOnline: number
  digitised: number
  reuse: number
  judged: number
  onTime: number
}

/** Scores counts into a report; `lists` adds the drill-down. */
export function scoreIndicators (agency: string, period: Period, c: IndicatorCounts, lists?: Record<IndicatorKey, { numerator: string[], denominator: string[] }>): IndicatorReport {
  const fractions: Record<IndicatorKey, [number, number]> = {
    dossierSync: [c.synced, c.received],
    onTime: [c.onTime, c.judged],
    onlineSubmission: [c.online, c.received],
    paidOnline: [c.paidOnline, c.feeBearing],
    digitisedResults: [c.digitised, c.received],
    reuse: [c.reuse, c.received]
  }
  const indicators = indicatorDefs.map((d): IndicatorValue => {
    const [num, den] = fractions[d.key]
    let rate = den === 0 ? null : num / den
    // Online submission counts only what reached DVCQG: its rate is multiplied by the sync rate.
    if (d.key === 'onlineSubmission' && rate !== null) rate *= c.synced / c.received
    const points = rate === null ? null : rate >= d.target ? d.max : rate * d.max / d.target
    const v: IndicatorValue = { key: d.key, group: d.group, name: d.name, numerator: num, denominator: den, rate: rate === null ? null : round(rate, 4), points: points === null ? null : round(points, 2), max: d.max, target: d.target }
    if (lists !== undefined) v.dossiers = lists[d.key]
    return v
  })
  const groups = [...new Set(indicatorDefs.map((d) => d.group))].map((group) => {
    const scored = indicators.filter((i) => i.group === group && i.points !== null)
    return { group, points: round(scored.reduce((a, i) => a + i.points!, 0), 2), scoredMax: scored.reduce((a, i) => a + i.max, 0) }
  })
  return {
    agency,
    period: period.label,
    received: c.received,
    indicators,
    groups,
    total: { points: round(groups.reduce((a, g) => a + g.points, 0), 2), scoredMax: groups.reduce((a, g) => a + g.scoredMax, 0) }
  }
}

type IndicatorParts = Record<IndicatorKey, { num: DossierFacts[], den: DossierFacts[] }>

/** The dossiers behind each indicator over [from, to), and their counts (the rules both stores' counts follow). */
export function countIndicators (period: Pick<Period, 'from' | 'to'>, facts: readonly DossierFacts[]): { counts: IndicatorCounts, parts: IndicatorParts } {
  const inPeriod = (t: number | null): boolean => t !== null && t >= period.from && t < period.to
  const received = facts.filter((f) => inPeriod(f.receivedAt))
  // Judged this period: ended in it, or unfinished at its end (received before it ended); not withdrawn.
  const judged = facts.filter((f) => f.state !== 7 && f.dueAt !== null && f.receivedAt !== null && f.receivedAt < period.to &&
    (inPeriod(f.endedAt) || f.endedAt === null || f.endedAt >= period.to))
  const feeBearing = received.filter((f) => f.feeBearing)
  const parts: IndicatorParts = {
    dossierSync: { num: received.filter((f) => f.synced), den: received },
    onTime: { num: judged.filter((f) => onTime(f, period.to)), den: judged },
    onlineSubmission: { num: received.filter((f) => f.online), den: received },
    paidOnline: { num: feeBearing.filter((f) => f.paidOnline), den: feeBearing },
    digitisedResults: { num: received.filter((f) => f.digitised), den: received },
    reuse: { num: received.filter((f) => f.reuse), den: received }
  }
  const counts: IndicatorCounts = {
    received: received.length,
    synced: parts.dossierSync.num.length,
    online: parts.onlineSubmission.num.length,
    feeBearing: feeBearing.length,
    paidOnline: parts.paidOnline.num.length,
    digitised: parts.digitisedResults.num.length,
    reuse: parts.reuse.num.length,
    judged: judged.length,
    onTime: parts.onTime.num.length
  }
  return { counts, parts }
}

/** Computes the report from the facts of the agency's dossiers (all those that may matter for the period). */
export function computeIndicators (agency: string, period: Period, facts: readonly DossierFacts[], drill = false): IndicatorReport {
  const { counts, parts } = countIndicators(period, facts)
  const names = (xs: DossierFacts[]): string[] => xs.map((f) => f.maHoSo).sort()
  const lists = drill ? Object.fromEntries(indicatorDefs.map((d) => [d.key, { numerator: names(parts[d.key].num), denominator: names(parts[d.key].den) }])) as Record<IndicatorKey, { numerator: string[], denominator: string[] }> : undefined
  return scoreIndicators(agency, period, counts, lists)
}
