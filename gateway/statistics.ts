/**
 * Statistics that agree: the Decision 766 indicators served from the ledger's facts, closed
 * periods with numbered revisions, and reconciliation with what DVCQG holds.
 *
 * - An agency's figures roll up its sub-units (config `agencies`); 000.00.00.Hnn is the
 *   whole province Hnn.
 * - Closing a period stores revision 1. A read of a closed period answers its latest
 *   revision and, when the figures have moved since (a late event), the pending changes per
 *   indicator and per dossier, unsaved: a read never writes. Closing the period again
 *   ("revise") stores them as revision n+1. Nothing is rewritten silently.
 * - The figures follow the configured rule profile (indicators.profile), which each revision
 *   records. A closed period read or closed under another profile than its latest revision's
 *   shows, or stores as revision n+1, the profile change with the figures it moves: an old
 *   revision is never recomputed in place.
 * - Reconciliation asks DVCQG (TraCuuHoSo) about every dossier received in the period and
 *   reports, per dossier, what is missing, stale (another status) or different (key
 *   fields). With repair, exactly those are re-sent through the outbox, under idempotency
 *   keys naming the ledger version, so repeating a repair sends nothing twice.
 */
import { metrics } from './metrics.js'
import type { AdapterRegistry } from '../adapters/registry.js'
import type { DvcqgAdapter } from '../adapters/dvcqg/index.js'
import type { GatewayConfig, QuaTrinhXuLy } from '../schemas/types.js'
import { lgspError } from './errors.js'
import { uuidv7 } from './ids.js'
import { sha256, unitsFor } from './intake.js'
import { formatDvcqgDate, vnDate } from './ledger/dates.js'
import { computeIndicators, explain, indicatorDefs, nationalProfile, parsePeriod, profileKey, scoreIndicators, type DossierExplanation, type IndicatorKey, type IndicatorReport, type RuleProfile } from './ledger/indicators.js'
import { WorkingCalendar } from './ledger/dates.js'
import type { DossierRow } from './ledger/plan.js'
import type { Logger } from './logger.js'
import { Periodic } from './periodic.js'
import type { AgencyScope, OutboxInsert, Store } from './store/types.js'

/** What GET /v1/indicators answers. */
export interface IndicatorAnswer {
  closed: boolean
  revision: number | null
  report: IndicatorReport
  /**
   * A read of a closed period: what the current figures change against the latest revision,
   * not saved (present only when something changed). A close that revises: what revision
   * n+1 changed against revision n.
   */
  changes?: unknown[]
}

/** One difference between the ledger and DVCQG. */
export interface Difference {
  maHoSo: string
  kind: 'missing' | 'stale' | 'different'
  ledgerState: number
  dvcqgState: number | null
  fields?: string[]
}

export interface ReconcileReport {
  agency: string
  period: string
  checked: number
  /** Dossiers DVCQG could not be asked about (it did not answer). */
  unchecked: string[]
  differences: Difference[]
  repaired: number
  dryRun: boolean
}

/** The comparison with the one-stop software's own list. */
export interface OnestopReport {
  agency: string
  period: string
  /** Dossiers in the one-stop's list, in the gateway's (sent by that member), and the same on both sides. */
  onestop: number
  gateway: number
  matching: number
  differences: Array<{ maHoSo: string, kind: 'missing-in-gateway' | 'missing-at-onestop' | 'stale', onestopState: number | null, gatewayState: number | null }>
}

/** Fields compared besides the status (as DVCQG carries them). */
const KEY_FIELDS = ['MaTTHC', 'NgayTiepNhan', 'NgayHenTra', 'KenhThucHien', 'DuocThanhToanTrucTuyen', 'NgayKetThucXuLy'] as const
const RECONCILER = 'lgsp-reconcile'

export class Statistics {
  readonly #store: Store
  readonly #adapters: AdapterRegistry
  readonly #config: GatewayConfig
  readonly #notify: (destinations: readonly string[]) => void
  readonly #log: Logger
  readonly #children = new Map<string, string[]>()
  readonly #schedule: Periodic | undefined
  readonly #profile: RuleProfile
  readonly #calendar: WorkingCalendar

  constructor (store: Store, adapters: AdapterRegistry, config: GatewayConfig, notify: (destinations: readonly string[]) => void, log: Logger) {
    this.#store = store
    this.#adapters = adapters
    this.#config = config
    this.#notify = notify
    this.#log = log.child({ component: 'statistics' })
    // The calendar is part of the profile recorded with each revision: due dates and "late by n working days" were counted on it.
    const p = config.indicators.profile ?? {}
    this.#profile = { ...nationalProfile, ...p, targets: p.targets ?? {}, calendar: config.calendar }
    this.#calendar = new WorkingCalendar(config.calendar)
    for (const a of config.agencies) if (a.parent !== undefined) this.#children.set(a.parent, [...this.#children.get(a.parent) ?? [], a.code])
    const r = config.reconcile
    if (r.agency !== undefined) {
      const agency = r.agency
      this.#schedule = new Periodic('scheduled reconciliation', r.intervalMs, async () => {
        for (const period of [currentMonth(-1), currentMonth(0)]) {
          const rep = await this.reconcile(agency, period, r.repair)
          if (rep.differences.length > 0) this.#log.info({ agency, period, differences: rep.differences.length, repaired: rep.repaired }, 'reconciled with DVCQG')
        }
      }, this.#log, { store, name: `reconcile:${agency}` })
    }
  }

  /** The agency and its sub-units. */
  scopeOf (agency: string): AgencyScope {
    if (!/^[A-Za-z0-9.]{3,40}$/.test(agency)) throw lgspError('LGSP_ERR_INDICATORS_AGENCY')
    const province = /^000\.00\.00\.(H\d{2})$/.exec(agency)
    if (province !== null) return { suffix: `.${province[1]!}` }
    const codes: string[] = []
    const walk = (code: string): void => {
      if (codes.includes(code)) return
      codes.push(code)
      for (const c of this.#children.get(code) ?? []) walk(c)
    }
    walk(agency)
    return { codes }
  }

  /** Without drill-down the store sums the counts itself; with it, the facts are read to list the dossiers. */
  async report (agency: string, periodLabel: string, drill = false): Promise<IndicatorReport> {
    return metrics.indicators('indicators', async () => this.#report(agency, periodLabel, drill))
  }

  /** The rule profile the current figures follow. */
  get profile (): RuleProfile { return this.#profile }

  async #report (agency: string, periodLabel: string, drill: boolean): Promise<IndicatorReport> {
    const period = parsePeriod(periodLabel)
    const scope = this.scopeOf(agency)
    if (!drill) return scoreIndicators(agency, period, await this.#store.countFacts(scope, period.from, period.to, this.#profile), undefined, this.#profile)
    return computeIndicators(agency, period, await this.#store.factsFor(scope, period.from, period.to), true, this.#profile)
  }

  /**
   * The drill-down of one indicator: per dossier, in MaHoSo order and paged, its received, due
   * and end dates (with the field each came from), how it counted and why, under the current
   * profile. `side` picks the numerator's or the denominator's dossiers.
   */
  async dossiers (agency: string, periodLabel: string, key: IndicatorKey, side: 'numerator' | 'denominator', offset: number, limit: number): Promise<{ agency: string, period: string, indicator: IndicatorKey, side: string, total: number, offset: number, limit: number, profile: { name: string, version: number }, dossiers: DossierExplanation[] }> {
    const period = parsePeriod(periodLabel)
    if (!indicatorDefs.some((d) => d.key === key)) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', `indicator is one of ${indicatorDefs.map((d) => d.key).join(', ')}.`)
    const facts = await this.#store.factsFor(this.scopeOf(agency), period.from, period.to)
    const rows = facts.map((f) => explain(f, key, period, this.#profile, this.#calendar))
      .filter((r) => side === 'numerator' ? r.counted === 'numerator' : r.counted !== 'none')
      .sort((a, b) => a.maHoSo < b.maHoSo ? -1 : a.maHoSo > b.maHoSo ? 1 : 0)
    return { agency, period: period.label, indicator: key, side, total: rows.length, offset, limit, profile: { name: this.#profile.name, version: this.#profile.version }, dossiers: rows.slice(offset, offset + limit) }
  }

  /** The profile a revision was computed with (revisions kept before profiles existed: the national reading on today's calendar). */
  #profileOf (report: IndicatorReport): RuleProfile {
    return report.profile ?? { ...nationalProfile, targets: {}, calendar: this.#profile.calendar }
  }

  /** The profile change between a revision and now, as a change entry, or none. */
  #profileChange (report: IndicatorReport): unknown[] {
    const before = this.#profileOf(report)
    return profileKey(before) === profileKey(this.#profile) ? [] : [{ profile: { before, after: this.#profile } }]
  }

  /**
   * The figures for the portal: current for an open period; for a closed one its latest
   * revision, plus the changes the current figures would bring, unsaved. A GET must not
   * write: only `close` stores a revision.
   */
  async indicators (agency: string, period: string, drill = false): Promise<IndicatorAnswer> {
    const latest = await this.#store.latestRevision(agency, period)
    if (latest === undefined) return { closed: false, revision: null, report: await this.report(agency, period, drill) }
    const report = latest.report as IndicatorReport
    const changes = [...this.#profileChange(report), ...diff(report, await this.report(agency, period, true))]
    const answer: IndicatorAnswer = { closed: true, revision: latest.revision, report: strip(report, drill) }
    return changes.length === 0 ? answer : { ...answer, changes }
  }

  /**
   * Closes a period: its figures become revision 1. Closing a closed period revises it: when
   * the figures moved since its latest revision, they become revision n+1 with what changed;
   * otherwise the latest revision is answered as it is.
   */
  async close (agency: string, period: string): Promise<IndicatorAnswer> {
    const latest = await this.#store.latestRevision(agency, period)
    const report = await this.report(agency, period, true)
    if (latest === undefined) {
      const saved = await this.#store.saveRevision({ agency, period, createdAt: Date.now(), report, changes: [] })
      return { closed: true, revision: saved.revision, report: strip(report, false) }
    }
    const changes = [...this.#profileChange(latest.report as IndicatorReport), ...diff(latest.report as IndicatorReport, report)]
    if (changes.length === 0) return { closed: true, revision: latest.revision, report: strip(latest.report as IndicatorReport, false) }
    const saved = await this.#store.saveRevision({ agency, period, createdAt: Date.now(), report, changes })
    this.#log.info({ agency, period, revision: saved.revision, changed: changes.length }, 'closed period revised')
    return { closed: true, revision: saved.revision, report: strip(report, false), changes }
  }

  /** Compares the ledger with DVCQG for the dossiers received in the period; with `repair`, re-sends the differences. */
  async reconcile (agency: string, periodLabel: string, repair: boolean): Promise<ReconcileReport> {
    return metrics.indicators('reconcile', async () => this.#reconcile(agency, periodLabel, repair))
  }

  async #reconcile (agency: string, periodLabel: string, repair: boolean): Promise<ReconcileReport> {
    const period = parsePeriod(periodLabel)
    const destination = this.#config.reconcile.destination
    const adapter = this.#adapters.get(destination)
    if (adapter === undefined || adapter.protocol !== 'dvcqg') throw lgspError('LGSP_ERR_RECONCILE_NO_DVCQG')
    const dvcqg = adapter as DvcqgAdapter
    const facts = (await this.#store.factsFor(this.scopeOf(agency), period.from, period.to))
      .filter((f) => f.receivedAt !== null && f.receivedAt >= period.from && f.receivedAt < period.to)
    const rows = await this.#store.dossierRows(facts.map((f) => f.maHoSo))
    const report: ReconcileReport = { agency, period: periodLabel, checked: 0, unchecked: [], differences: [], repaired: 0, dryRun: !repair }
    for (const row of rows) {
      const look = await dvcqg.lookUp(row.maHoSo)
      if (!look.ok) {
        report.unchecked.push(row.maHoSo)
        continue
      }
      report.checked++
      const d = compare(row, look.held, dvcqg)
      if (d === undefined) continue
      report.differences.push(d)
      if (repair && await this.#repair(row, d, look.held !== undefined, destination)) report.repaired++
    }
    if (report.repaired > 0) this.#notify([destination])
    return report
  }

  /** Queues exactly what DVCQG lacks; false when the same repair was already queued (same ledger version). */
  async #repair (row: DossierRow, d: Difference, held: boolean, destination: string): Promise<boolean> {
    const now = Date.now()
    const messageId = uuidv7(now)
    const kinds = d.kind === 'stale' ? 'status' : 'record'
    const result = await this.#store.accept({
      messageId,
      receivedAt: now,
      sender: RECONCILER,
      kind: 'dossier',
      idempotencyKey: `${RECONCILER}:${row.maHoSo}:${row.version}:${kinds}`,
      contentHash: sha256(JSON.stringify(d)),
      idempotencyHash: `${row.maHoSo}:${row.version}:${kinds}`,
      body: JSON.stringify(d),
      maHoSo: [row.maHoSo],
      reply: { messageId, receivedAt: new Date(now).toISOString(), destinations: [destination] },
      plan: () => {
        let outbox: OutboxInsert[]
        if (d.kind === 'stale') {
          const entry: QuaTrinhXuLy = { MaHoSo: row.maHoSo, ThoiDiemXuLy: formatDvcqgDate(row.lastEventAt ?? row.updatedAt), TrangThai: row.state, NoiDungXuLy: 'Đối soát với trục liên thông: trạng thái hiện tại của hồ sơ' }
          outbox = unitsFor(this.#adapters, [destination], row.maHoSo, { kind: 'progress', messageId, sender: RECONCILER, maHoSo: row.maHoSo, entries: [entry] })
        } else {
          outbox = unitsFor(this.#adapters, [destination], row.maHoSo, { kind: 'dossier', messageId, sender: RECONCILER, record: row.record, existed: held })
        }
        // Nothing changes in the ledger: it is the reference.
        return { change: { rows: [], events: [], existed: [] }, outbox }
      }
    })
    return !result.replayed
  }

  /**
   * Compares the one-stop software's own list of the dossiers it received in a period with
   * what the ledger holds of the dossiers that member sent: per dossier, missing on either
   * side or at another status.
   */
  async reconcileOnestop (member: string, agency: string, periodLabel: string, theirs: ReadonlyArray<{ MaHoSo: string, TrangThaiHoSo: number | string }>): Promise<OnestopReport> {
    return metrics.indicators('reconcile-onestop', async () => this.#reconcileOnestop(member, agency, periodLabel, theirs))
  }

  async #reconcileOnestop (member: string, agency: string, periodLabel: string, theirs: ReadonlyArray<{ MaHoSo: string, TrangThaiHoSo: number | string }>): Promise<OnestopReport> {
    const period = parsePeriod(periodLabel)
    const facts = (await this.#store.factsFor(this.scopeOf(agency), period.from, period.to))
      .filter((f) => f.receivedAt !== null && f.receivedAt >= period.from && f.receivedAt < period.to)
    const ours = new Map((await this.#store.dossierRows(facts.map((f) => f.maHoSo))).filter((r) => r.owner === member).map((r) => [r.maHoSo, r.state]))
    const differences: OnestopReport['differences'] = []
    const seen = new Set<string>()
    for (const d of theirs) {
      seen.add(d.MaHoSo)
      const state = ours.get(d.MaHoSo)
      if (state === undefined) differences.push({ maHoSo: d.MaHoSo, kind: 'missing-in-gateway', onestopState: Number(d.TrangThaiHoSo), gatewayState: null })
      else if (state !== Number(d.TrangThaiHoSo)) differences.push({ maHoSo: d.MaHoSo, kind: 'stale', onestopState: Number(d.TrangThaiHoSo), gatewayState: state })
    }
    for (const [id, state] of ours) if (!seen.has(id)) differences.push({ maHoSo: id, kind: 'missing-at-onestop', onestopState: null, gatewayState: state })
    return { agency, period: periodLabel, onestop: theirs.length, gateway: ours.size, matching: theirs.length - differences.filter((d) => d.kind !== 'missing-at-onestop').length, differences }
  }

  start (): void { this.#schedule?.start() }
  stop (): Promise<void> { return this.#schedule?.stop() ?? Promise.resolve() }
}

/** yyyy-MM of the current month (+offset) in Vietnam time. */
function currentMonth (offset: number): string {
  const [y, m] = vnDate().split('-').map(Number) as [number, number]
  return new Date(Date.UTC(y, m - 1 + offset, 1)).toISOString().slice(0, 7)
}

/** DVCQG's status of a dossier: its latest progress entry's, else the record's. */
function dvcqgState (held: Record<string, unknown>): number | null {
  const progress = (held.QuaTrinhXuLy ?? []) as Array<Record<string, unknown>>
  const last = [...progress].sort((a, b) => String(a.ThoiDiemXuLy).localeCompare(String(b.ThoiDiemXuLy))).at(-1)
  const s = Number(last?.TrangThai ?? held.TrangThaiHoSo)
  return Number.isInteger(s) ? s : null
}

function compare (row: DossierRow, held: Record<string, unknown> | undefined, dvcqg: DvcqgAdapter): Difference | undefined {
  if (held === undefined) return { maHoSo: row.maHoSo, kind: 'missing', ledgerState: row.state, dvcqgState: null }
  const wire = (dvcqg.units({ kind: 'dossier', messageId: '', sender: '', record: row.record, existed: true })[0]!.payload as { record: Record<string, unknown> }).record
  const fields = KEY_FIELDS.filter((k) => String(wire[k] ?? '') !== String(held[k] ?? ''))
  if (fields.length > 0) return { maHoSo: row.maHoSo, kind: 'different', ledgerState: row.state, dvcqgState: dvcqgState(held), fields }
  // DVCQG keeps the latest record; some of its views take the status of the latest progress
  // entry instead. Either at the ledger's status is in step (history sent after a record
  // leaves older statuses in the progress list).
  const state = dvcqgState(held)
  if (state !== row.state && Number(held.TrangThaiHoSo) !== row.state) return { maHoSo: row.maHoSo, kind: 'stale', ledgerState: row.state, dvcqgState: state }
  return undefined
}

/** Per indicator: counts before and after, dossiers added and removed (both reports with drill-down). */
function diff (before: IndicatorReport, after: IndicatorReport): unknown[] {
  const out: unknown[] = []
  for (const a of after.indicators) {
    const b = before.indicators.find((x) => x.key === a.key)
    const set = (xs: string[] | undefined): Set<string> => new Set(xs ?? [])
    const changed = (side: 'numerator' | 'denominator'): { added: string[], removed: string[] } => {
      const was = set(b?.dossiers?.[side])
      const is = set(a.dossiers?.[side])
      return { added: [...is].filter((x) => !was.has(x)), removed: [...was].filter((x) => !is.has(x)) }
    }
    const num = changed('numerator')
    const den = changed('denominator')
    if (num.added.length + num.removed.length + den.added.length + den.removed.length === 0) continue
    out.push({ indicator: a.key, before: { numerator: b?.numerator, denominator: b?.denominator, points: b?.points }, after: { numerator: a.numerator, denominator: a.denominator, points: a.points }, numerator: num, denominator: den })
  }
  return out
}

/** Drops the drill-down lists unless asked for. */
function strip (r: IndicatorReport, drill: boolean): IndicatorReport {
  return drill ? r : { ...r, indicators: r.indicators.map(({ dossiers: _d, ...rest }) => rest) }
}
