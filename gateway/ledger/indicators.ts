/**
 * Decision 766/QĐ-TTg indicators from the ledger.
 *
 * Each dossier carries a row of facts, updated as its messages are accepted (so no query ever
 * rescans events): when it was received and is due, when it ended, how many supplements were
 * asked and how long it waited for them, its channel, fees, payment, digitisation, and whether
 * DVCQG has it. Every time in them is event time: the dossier's own dates and ThoiDiemXuLy,
 * kept as a set of observations, never when a message arrived, so re-sends, batch syncs and
 * history replays give the same facts as live traffic (tests/ledger/event-time.test.ts).
 * The rules live here once (judge, countIndicators, explain), under a rule profile; the
 * stores only keep and read facts. The rules (Decision 766/QĐ-TTg, national reading):
 * - on time: end ≤ due, where the end is the first of 9, 10, 8 or 3; time waiting for a
 *   supplement (status 5 until it is supplied) is not counted; more than one supplement is
 *   overdue; a dossier unfinished at the end of the period is judged then. Withdrawn
 *   dossiers (7) and dossiers with no due date are not judged.
 * - online submission: KenhThucHien 2 ÷ received, times the sync rate.
 * - online payment: DuocThanhToanTrucTuyen 1 or 2 ÷ received dossiers of fee-bearing
 *   procedures whose fees are not all 0.
 * - digitisation: digitised attachments and a result file (DanhSachGiayToKetQua[].
 *   DuongDanTepTinKetQua; a result listed without a file does not count) ÷ received; reuse:
 *   HoSoCoThanhPhanSoHoa 1 or some TaiLieuNop.DuocSoHoa 1 ÷ received.
 * - dossier sync: received dossiers that DVCQG holds ÷ received.
 * Scoring: a rate at or above its target earns full points, below it rate × max ÷ target.
 */
import type { Catalogue } from '../catalogue.js'
import { lgspError } from '../errors.js'
import { formatDvcqgDate, parseDvcqgDate, vnDate, vnMonthStart, type CalendarSettings, type WorkingCalendar } from './dates.js'
import type { GatewayConfig, HoSo } from '../../schemas/types.js'
import type { DossierEvent, DossierRow } from './plan.js'

/** One timed status observation of a dossier: when (event time), which status, and the field that dated it. */
export type Observation = [at: number, state: number, source: string]

/**
 * What the facts keep beside the counted columns: every timed status observation the dossier's
 * messages carried (progress entries, applied or history, and its records' dates), so that the
 * durations are recomputed from event time whatever order the messages came in.
 */
export interface FactsDetail {
  /** Distinct observations, sorted by time then stage. */
  timeline: Observation[]
  /** The most supplements any record listed (DanhSachHoSoBoSung). */
  listed: number
  /** A record reported a supplement request (5) without a date. */
  untimedSupplement: boolean
  /** The earliest arrival of a message reporting an end without a date: the end only when no date ever comes. */
  arrivalEnd: number | null
  /** The field the end came from (NgayTra, NgayKetThucXuLy, NgayTuChoi, ThoiDiemXuLy, arrival). */
  endSource: string | null
  /** Where the due date came from: NgayHenTra, or the procedure's statutory days on the working calendar. */
  dueSource: 'NgayHenTra' | 'statutory' | null
  /** Some attachment was digitised (TaiLieuNop[].DuocSoHoa 1). */
  digitisedFiles: boolean
  /** Results listed (DanhSachGiayToKetQua) and how many carry a file (DuongDanTepTinKetQua). */
  results: number
  resultFiles: number
  /** Supplement waits measured before facts kept their observations (facts written by an older gateway). */
  carriedPausedMs?: number
}

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
  /** Absent on facts read for counting only. */
  detail?: FactsDetail
}

export const agencyOf = (maHoSo: string): string => maHoSo.split('-')[0] ?? maHoSo

const flag = (v: unknown): boolean => String(v) === '1'
const ENDS = new Set([3, 8, 9, 10])
/** Order of statuses observed at the same instant: reception before processing before its end. */
const STAGE: Record<number, number> = { 1: 0, 2: 1, 4: 2, 5: 2, 6: 2, 7: 4, 9: 3, 3: 4, 8: 4, 10: 5 }
const date = (d: string | undefined): number | undefined => d === undefined || d === '' ? undefined : parseDvcqgDate(d)

/** The timed observations a HoSo record carries: its dates, each the time of the status it names. */
function recordObservations (r: HoSo, reported: number): Observation[] {
  const out: Observation[] = []
  const add = (at: number | undefined, state: number, source: string): void => { if (at !== undefined) out.push([at, state, source]) }
  add(date(r.NgayTiepNhan), 2, 'NgayTiepNhan')
  add(date(r.NgayTuChoi), 3, 'NgayTuChoi')
  // NgayKetThucXuLy: when processing ended, as stopped (8), refused (3) or processed (9, then 10).
  const processed = date(r.NgayKetThucXuLy)
  if (reported === 8 || reported === 3) add(processed, reported, 'NgayKetThucXuLy')
  else if (reported === 9 || reported === 10) add(processed, 9, 'NgayKetThucXuLy')
  if (reported === 10) add(date(r.NgayTra), 10, 'NgayTra')
  return out
}

/** The durations a sorted timeline gives: end, supplements, time paused, an open pause. */
function walk (timeline: readonly Observation[]): { endedAt: number | null, endSource: string | null, supplements: number, pausedMs: number, pauseSince: number | null } {
  let endedAt: number | null = null
  let endSource: string | null = null
  let supplements = 0
  let pausedMs = 0
  let pauseSince: number | null = null
  let prev: number | null = null
  for (const [at, s, source] of timeline) {
    if (s === prev) continue
    if (s === 5) {
      supplements++
      pauseSince = at
    } else if (prev === 5 && pauseSince !== null) {
      pausedMs += Math.max(0, at - pauseSince)
      pauseSince = null
    }
    // Reported processed (9), then back in processing or stopped: the 9 was not its end.
    if (prev === 9 && s !== 10) { endedAt = null; endSource = null }
    if (ENDS.has(s) && endedAt === null) { endedAt = at; endSource = source }
    prev = s
  }
  return { endedAt, endSource, supplements, pausedMs, pauseSince }
}

/**
 * The facts after a message: `prev` (or none), the dossier's new row, and the message's events.
 * Event time only: every duration and period comes from the dossier's own dates and
 * ThoiDiemXuLy, collected as a set of observations, so re-sends, history replays and any
 * arrival order give the same facts. A message's arrival time is used for one thing only: the
 * end of a dossier that reported an end and never its date (kept apart as `arrivalEnd`).
 */
export function updateFacts (prev: DossierFacts | undefined, row: DossierRow, events: readonly DossierEvent[], catalogue: Catalogue, calendar: WorkingCalendar): DossierFacts {
  const r = row.record
  const pd = prev?.detail
  // The record's own fields count from the records that moved the dossier (or kept its status):
  // a re-sent older record (history) does not take back what a newer one said, and the ledger
  // row it leaves behind is not read again until a newer record comes (progress keeps it).
  const stale = prev !== undefined && pd !== undefined && !events.some((e) => e.kind === 'dossier' && e.applied)
  // A payment or a component's notice (a tax notice, …: any kind but a record or progress) sets fees and payment.
  const paid = events.some((e) => e.kind !== 'dossier' && e.kind !== 'progress')
  const procedure = catalogue.get(r.MaTTHC)
  const sentReceived = date(r.NgayTiepNhan) ?? null
  const receivedAt = stale ? prev.receivedAt ?? sentReceived : sentReceived ?? prev?.receivedAt ?? null
  const sentDue = date(r.NgayHenTra) ?? null
  const keptDue = pd?.dueSource === 'NgayHenTra' ? prev!.dueAt : null
  let dueAt = stale ? keptDue ?? sentDue : sentDue ?? keptDue
  let dueSource: FactsDetail['dueSource'] = dueAt === null ? null : 'NgayHenTra'
  if (dueAt === null && receivedAt !== null && procedure !== undefined) {
    dueAt = calendar.addWorkingDays(receivedAt, procedure.SoNgayGiaiQuyet)
    dueSource = 'statutory'
  }
  // An attachment the one-stop removed (TaiLieuNop[].IsDeleted "True") counts for nothing.
  const files = (r.TaiLieuNop ?? []).filter((t) => String(t.IsDeleted).toLowerCase() !== 'true')
  const results = r.DanhSachGiayToKetQua ?? []
  const digitisedFiles = stale ? pd.digitisedFiles : files.some((t) => flag(t.DuocSoHoa))
  const resultCount = stale ? pd.results : results.length
  const resultFiles = stale ? pd.resultFiles : results.filter((x) => typeof x.DuongDanTepTinKetQua === 'string' && x.DuongDanTepTinKetQua.trim() !== '').length
  // Facts an older gateway wrote have no observations: what they measured is carried over as observations.
  const carried: Observation[] = prev === undefined || pd !== undefined
    ? []
    : [...(prev.receivedAt === null ? [] : [[prev.receivedAt, 2, 'NgayTiepNhan'] as Observation]), ...(prev.pauseSince === null ? [] : [[prev.pauseSince, 5, 'ThoiDiemXuLy'] as Observation]),
        ...(prev.endedAt === null ? [] : [[prev.endedAt, prev.state, 'ThoiDiemXuLy'] as Observation])]
  const carriedPausedMs = pd === undefined ? prev?.pausedMs ?? 0 : pd.carriedPausedMs ?? 0
  const seen = new Map<string, Observation>([...(pd?.timeline ?? []), ...carried].map((o) => [`${o[0]}:${o[1]}`, o]))
  const observe = (o: Observation): void => {
    if (o[0] <= 0) return
    // The same status at the same instant from two fields: the source named is the first by name, not by arrival.
    const had = seen.get(`${o[0]}:${o[1]}`)
    if (had === undefined || o[2] < had[2]) seen.set(`${o[0]}:${o[1]}`, o)
  }
  let untimedSupplement = pd?.untimedSupplement ?? false
  let arrivalEnd = pd?.arrivalEnd ?? null
  for (const e of events) {
    if (e.kind !== 'dossier' && e.kind !== 'payment') {
      // Progress, or a component's notice (its entry's ThoiDiemXuLy). History (applied or not)
      // happened: it counts where it happened in time.
      observe([e.at, e.toState, 'ThoiDiemXuLy'])
    } else if (e.kind === 'dossier') {
      // The record as sent said e.toState; its dates (not its arrival) time what it says.
      const obs = recordObservations(r, e.toState)
      for (const o of obs) observe(o)
      if (e.toState === 5) untimedSupplement = true
      if (ENDS.has(e.toState) && !obs.some((o) => ENDS.has(o[1]))) arrivalEnd = arrivalEnd === null ? e.receivedAt : Math.min(arrivalEnd, e.receivedAt)
    }
  }
  for (const o of recordObservations(r, row.state)) observe(o)
  // Ties broken on the status itself, never on arrival: the same observations give the same timeline.
  const timeline = [...seen.values()].sort((a, b) => a[0] - b[0] || (STAGE[a[1]] ?? 0) - (STAGE[b[1]] ?? 0) || a[1] - b[1])
  const w = walk(timeline)
  const listed = Math.max(pd?.listed ?? (prev?.supplements ?? 0), (r.DanhSachHoSoBoSung ?? []).length)
  let endedAt = ENDS.has(row.state) ? w.endedAt : null
  let endSource = endedAt === null ? null : w.endSource
  if (ENDS.has(row.state) && endedAt === null && arrivalEnd !== null) { endedAt = arrivalEnd; endSource = 'arrival' }
  const timedSupplement = timeline.some((o) => o[1] === 5)
  return {
    maHoSo: row.maHoSo,
    agency: agencyOf(row.maHoSo),
    maTTHC: r.MaTTHC,
    state: row.state,
    receivedAt,
    dueAt,
    endedAt,
    supplements: Math.max(w.supplements, listed, untimedSupplement && !timedSupplement ? 1 : 0),
    pausedMs: w.pausedMs + carriedPausedMs,
    pauseSince: ENDS.has(row.state) ? null : w.pauseSince,
    online: stale ? prev.online : String(r.KenhThucHien) === '2',
    // A payment or tax notice changes the row's fees and payment flag: those are read again.
    feeBearing: stale && !paid ? prev.feeBearing : procedure?.CoPhiLePhi === true && (r.DanhSachLePhi ?? []).some((x) => Number(x.Gia ?? 0) > 0),
    paidOnline: stale && !paid ? prev.paidOnline : ['1', '2'].includes(String(r.DuocThanhToanTrucTuyen)),
    // Decision 766: digitised attachments and a result file (DuongDanTepTinKetQua), not a result listed without one.
    digitised: digitisedFiles && resultFiles > 0,
    reuse: stale ? prev.reuse : flag(r.HoSoCoThanhPhanSoHoa) || digitisedFiles,
    synced: prev?.synced ?? false,
    detail: { timeline, listed, untimedSupplement, arrivalEnd, endSource, dueSource, digitisedFiles, results: resultCount, resultFiles, ...(carriedPausedMs === 0 ? {} : { carriedPausedMs }) }
  }
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

export type IndicatorKey = typeof indicatorDefs[number]['key']

/**
 * A named, versioned reading of Decision 766's rules. Real provincial software differs on
 * these points (DESIGN §3); the profile says which reading a figure follows, and each closed
 * period's revision records it, so a figure can be recomputed as it was published.
 */
export type RuleProfile = Omit<ConfigProfile, 'targets'> & {
  /** Targets that replace Decision 766's, per indicator (rates 0–1). */
  targets?: ConfigProfile['targets']
  /** The working calendar the due dates and "late by n working days" were counted on (recorded with the profile). */
  calendar?: CalendarSettings
}

/** The options of a profile as the config describes them (`indicators.profile`, schemas/config.schema.json). */
type ConfigProfile = GatewayConfig['indicators']['profile']

/** The national reading, the default: carry-overs judged, withdrawn left out, to the second, no due date left out, one supplement at most. */
export const nationalProfile: RuleProfile = {
  name: 'national-766', version: 1, carryOvers: true, withdrawn: 'excluded', granularity: 'time', noDueDate: 'excluded', maxSupplements: 1
}

/** The rule options of a profile, for comparing two profiles (name and version alone may hide an edited option). */
export const profileKey = (p: RuleProfile): string => JSON.stringify([p.name, p.version, p.carryOvers, p.withdrawn, p.granularity, p.noDueDate, p.maxSupplements, p.targets ?? {}, p.calendar ?? null])

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
  /** The rule profile the figures follow (a closed period's revision keeps the one it was computed with). */
  profile?: RuleProfile
}

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d

/** How one dossier was judged for timeliness in a period, and on what ground (reasonOf words it). */
export interface Verdict {
  verdict: 'onTime' | 'late'
  ground: 'withdrawn' | 'supplements' | 'noDueDate' | 'deadline'
  /** When it was judged: its end, or the period's end while it was unfinished then. */
  judgedAt: number
  unfinished: boolean
  /** The due date moved by the time waiting for supplements; null without a due date. */
  deadline: number | null
}

const times = (n: number): string => n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`

/**
 * Whether a dossier counts for timeliness in [from, to), and its verdict; undefined when it
 * does not count. The one place the on-time rules live: every store's counts and every
 * drill-down come from it (on the hot path of every count: no text, no calendar here).
 */
export function judge (f: DossierFacts, period: Pick<Period, 'from' | 'to'>, profile: RuleProfile = nationalProfile): Verdict | undefined {
  if (f.receivedAt === null || f.receivedAt >= period.to) return undefined
  // Ended in the period, or unfinished at its end.
  if (f.endedAt !== null && f.endedAt < period.from) return undefined
  if (!profile.carryOvers && f.receivedAt < period.from) return undefined
  const unfinished = f.endedAt === null || f.endedAt >= period.to
  const end = unfinished ? period.to : f.endedAt!
  if (f.state === 7) return profile.withdrawn === 'excluded' ? undefined : { verdict: profile.withdrawn, ground: 'withdrawn', judgedAt: end, unfinished, deadline: f.dueAt }
  if (f.supplements > profile.maxSupplements) return { verdict: 'late', ground: 'supplements', judgedAt: end, unfinished, deadline: f.dueAt }
  if (f.dueAt === null) return profile.noDueDate === 'excluded' ? undefined : { verdict: profile.noDueDate, ground: 'noDueDate', judgedAt: end, unfinished, deadline: null }
  const openPause = f.pauseSince !== null && f.pauseSince < end ? end - f.pauseSince : 0
  const deadline = f.dueAt + f.pausedMs + openPause
  const ok = profile.granularity === 'date' ? vnDate(end) <= vnDate(deadline) : end <= deadline
  return { verdict: ok ? 'onTime' : 'late', ground: 'deadline', judgedAt: end, unfinished, deadline }
}

/** A verdict in words: "late by 2 working days", "supplement requested twice"… */
export function reasonOf (v: Verdict, f: DossierFacts, calendar: WorkingCalendar): string {
  const counted = v.verdict === 'onTime' ? 'on time' : 'late'
  switch (v.ground) {
    case 'withdrawn': return `withdrawn (status 7), counted ${counted} by the profile`
    case 'supplements': return `supplement requested ${times(f.supplements)}`
    case 'noDueDate': return `no due date, counted ${counted} by the profile`
    case 'deadline': {
      if (v.verdict === 'onTime') return v.unfinished ? 'in progress, not yet due at the period end' : 'ended by its due date'
      const days = calendar.workingDaysAfter(v.deadline!, v.judgedAt)
      const late = days === 0 ? 'late by less than a working day' : `late by ${days} working day${days === 1 ? '' : 's'}`
      return v.unfinished ? `unfinished at the period end, ${late}` : late
    }
  }
}

/** Whether a dossier was handled on time, judged at `judgeAt` when unfinished then (the national reading). */
export function onTime (f: DossierFacts, judgeAt: number): boolean {
  return judge(f, { from: -Infinity, to: judgeAt })?.verdict === 'onTime'
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
export function scoreIndicators (agency: string, period: Period, c: IndicatorCounts, lists?: Record<IndicatorKey, { numerator: string[], denominator: string[] }>, profile: RuleProfile = nationalProfile): IndicatorReport {
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
    const target = profile.targets?.[d.key] ?? d.target
    let rate = den === 0 ? null : num / den
    // Online submission counts only what reached DVCQG: its rate is multiplied by the sync rate.
    if (d.key === 'onlineSubmission' && rate !== null) rate *= c.synced / c.received
    const points = rate === null ? null : rate >= target ? d.max : rate * d.max / target
    const v: IndicatorValue = { key: d.key, group: d.group, name: d.name, numerator: num, denominator: den, rate: rate === null ? null : round(rate, 4), points: points === null ? null : round(points, 2), max: d.max, target }
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
    total: { points: round(groups.reduce((a, g) => a + g.points, 0), 2), scoredMax: groups.reduce((a, g) => a + g.scoredMax, 0) },
    profile
  }
}

type IndicatorParts = Record<IndicatorKey, { num: DossierFacts[], den: DossierFacts[] }>

/** No dossier counted yet. */
export const noCounts = (): IndicatorCounts => ({ received: 0, synced: 0, online: 0, feeBearing: 0, paidOnline: 0, digitised: 0, reuse: 0, judged: 0, onTime: 0 })

/**
 * Adds one dossier to the counts of [from, to): the rules of every indicator, per dossier.
 * countIndicators runs it over facts read out; SQLite runs it as an aggregate inside its query
 * (no row leaves the database): the same function either way.
 */
export function tally (c: IndicatorCounts, f: DossierFacts, period: Pick<Period, 'from' | 'to'>, profile: RuleProfile = nationalProfile): void {
  if (f.receivedAt !== null && f.receivedAt >= period.from && f.receivedAt < period.to) {
    c.received++
    if (f.synced) c.synced++
    if (f.online) c.online++
    if (f.feeBearing) {
      c.feeBearing++
      if (f.paidOnline) c.paidOnline++
    }
    if (f.digitised) c.digitised++
    if (f.reuse) c.reuse++
  }
  const v = judge(f, period, profile)
  if (v === undefined) return
  c.judged++
  if (v.verdict === 'onTime') c.onTime++
}

/** The dossiers behind each indicator over [from, to), and their counts (tally's, per dossier). */
export function countIndicators (period: Pick<Period, 'from' | 'to'>, facts: readonly DossierFacts[], profile: RuleProfile = nationalProfile): { counts: IndicatorCounts, parts: IndicatorParts } {
  const counts = noCounts()
  const parts = Object.fromEntries(indicatorDefs.map((d) => [d.key, { num: [], den: [] }])) as unknown as IndicatorParts
  for (const f of facts) {
    const before = { ...counts }
    tally(counts, f, period, profile)
    // Which counts this dossier moved says which lists it belongs to.
    const moved = (k: keyof IndicatorCounts): boolean => counts[k] !== before[k]
    const put = (key: IndicatorKey, num: boolean, den: boolean): void => {
      if (den) parts[key].den.push(f)
      if (num) parts[key].num.push(f)
    }
    const received = moved('received')
    put('dossierSync', moved('synced'), received)
    put('onTime', moved('onTime'), moved('judged'))
    put('onlineSubmission', moved('online'), received)
    put('paidOnline', moved('paidOnline'), moved('feeBearing'))
    put('digitisedResults', moved('digitised'), received)
    put('reuse', moved('reuse'), received)
  }
  return { counts, parts }
}

/** Computes the report from the facts of the agency's dossiers (all those that may matter for the period). */
export function computeIndicators (agency: string, period: Period, facts: readonly DossierFacts[], drill = false, profile: RuleProfile = nationalProfile): IndicatorReport {
  const { counts, parts } = countIndicators(period, facts, profile)
  const names = (xs: DossierFacts[]): string[] => xs.map((f) => f.maHoSo).sort()
  const lists = drill ? Object.fromEntries(indicatorDefs.map((d) => [d.key, { numerator: names(parts[d.key].num), denominator: names(parts[d.key].den) }])) as Record<IndicatorKey, { numerator: string[], denominator: string[] }> : undefined
  return scoreIndicators(agency, period, counts, lists, profile)
}

/** One dossier of a drill-down: its dates, where they came from, how it counted for the indicator, and why. */
export interface DossierExplanation {
  maHoSo: string
  agency: string
  state: number
  /** DVCQG dates (yyyyMMddHHmmss, Vietnam time), null when unknown. */
  received: string | null
  due: string | null
  dueSource: string | null
  end: string | null
  endSource: string | null
  /** In the indicator's numerator (counted), its denominator only, or neither. */
  counted: 'numerator' | 'denominator' | 'none'
  verdict?: 'onTime' | 'late'
  reason: string
}

/** Why one dossier counts as it does for an indicator over a period, under a profile. */
export function explain (f: DossierFacts, key: IndicatorKey, period: Pick<Period, 'from' | 'to'>, profile: RuleProfile, calendar: WorkingCalendar): DossierExplanation {
  const d = (t: number | null): string | null => t === null ? null : formatDvcqgDate(t)
  const base = {
    maHoSo: f.maHoSo, agency: f.agency, state: f.state, received: d(f.receivedAt), due: d(f.dueAt), dueSource: f.detail?.dueSource ?? (f.dueAt === null ? null : 'NgayHenTra'),
    end: d(f.endedAt), endSource: f.detail?.endSource ?? null
  }
  const received = f.receivedAt !== null && f.receivedAt >= period.from && f.receivedAt < period.to
  const side = (num: boolean, den: boolean): DossierExplanation['counted'] => num ? 'numerator' : den ? 'denominator' : 'none'
  if (key === 'onTime') {
    const v = judge(f, period, profile)
    if (v === undefined) {
      const why = f.state === 7 ? 'withdrawn (status 7): not judged' : f.dueAt === null ? 'no due date: not judged' : f.receivedAt === null ? 'never received (no NgayTiepNhan)' : !profile.carryOvers && f.receivedAt < period.from ? 'received before the period: carry-overs are not judged by the profile' : 'not in the period'
      return { ...base, counted: 'none', reason: why }
    }
    return { ...base, counted: side(v.verdict === 'onTime', true), verdict: v.verdict, reason: reasonOf(v, f, calendar) }
  }
  if (!received) return { ...base, counted: 'none', reason: 'not received in the period' }
  switch (key) {
    case 'dossierSync': return { ...base, counted: side(f.synced, true), reason: f.synced ? 'held by DVCQG' : 'not yet at DVCQG' }
    case 'onlineSubmission': return { ...base, counted: side(f.online, true), reason: f.online ? 'submitted online (KenhThucHien 2)' : 'not submitted online' }
    case 'paidOnline':
      if (!f.feeBearing) return { ...base, counted: 'none', reason: 'no fee to pay' }
      return { ...base, counted: side(f.paidOnline, true), reason: f.paidOnline ? 'paid online' : 'not paid online' }
    case 'digitisedResults': {
      if (f.digitised) return { ...base, counted: 'numerator', reason: 'digitised attachments and a result file' }
      const x = f.detail
      const why = x === undefined ? 'not digitised' : !x.digitisedFiles ? 'no digitised attachment' : x.results === 0 ? 'no result' : 'no result file'
      return { ...base, counted: 'denominator', reason: why }
    }
    case 'reuse': return { ...base, counted: side(f.reuse, true), reason: f.reuse ? 'reused digitised data' : 'no digitised data reused' }
  }
}
