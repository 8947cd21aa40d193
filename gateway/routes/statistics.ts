/**
 * Indicators for the national portal, period close, and reconciliation.
 */
import type { FastifyInstance } from 'fastify'
import type { GatewayConfig } from '../../schemas/types.js'
import { lgspError } from '../errors.js'
import { memberOf, requireAdmin, type Authenticate } from '../plugins/auth.js'
import type { Statistics } from '../statistics.js'
import type { IndicatorKey } from '../ledger/indicators.js'
import type { Store } from '../store/types.js'
import { checkSchema, validators } from '../validation.js'
import { routeDocs } from '../plugins/openapi.js'

/**
 * A yes/no parameter: absent is false; true/false as JSON booleans or the query strings
 * "true"/"false"; anything else ("maybe", "yes", 1) is a 400, never read as false.
 */
function strictBoolean (name: string, v: unknown): boolean {
  if (v === undefined || v === false || v === 'false') return false
  if (v === true || v === 'true') return true
  throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', `${name} is true or false.`)
}

/** What says which agency codes exist: the config, DVCQG's agency list, the ledger. */
export interface AgencySources {
  config: Pick<GatewayConfig, 'agencies' | 'destinations'>
  /** DVCQG's agencies (LayDanhMucCoQuan) as the catalogue sync learnt them; none in the CLI without a snapshot. */
  learnt: () => ReadonlyArray<{ MaDonVi: string }>
  store: Pick<Store, 'countFacts'>
}

/**
 * Refuses an agency code lgsp has never heard of, rather than answering with zeros that look
 * like a real agency with an idle month. Known: a code or parent in the config's `agencies`,
 * an agency of DVCQG's list, the province code (000.00.00.Hnn) of a DVCQG destination or of a
 * known agency's province, or any code the ledger holds a dossier of (a gateway without an
 * agency list still answers for the agencies it has seen).
 */
export async function checkAgency (agency: string, stats: Statistics, sources: AgencySources): Promise<void> {
  const scope = stats.scopeOf(agency) // a malformed code is LGSP_ERR_INDICATORS_AGENCY (400)
  const listed = [
    ...sources.config.agencies.flatMap((a) => a.parent === undefined ? [a.code] : [a.code, a.parent]),
    ...sources.learnt().map((a) => a.MaDonVi),
    ...Object.values(sources.config.destinations).flatMap((d) => d !== undefined && 'madonvi' in d && typeof d.madonvi === 'string' ? [d.madonvi] : [])
  ]
  if (listed.includes(agency)) return
  const province = /^000\.00\.00\.(H\d{2})$/.exec(agency)
  if (province !== null && listed.some((a) => a.endsWith(`.${province[1]!}`))) return
  if ((await sources.store.countFacts(scope, 0, 8.64e15)).received > 0) return
  throw lgspError('LGSP_ERR_INDICATORS_UNKNOWN_AGENCY', `No agency ${agency} in the config's agencies, in DVCQG's agency list or in the ledger: check the code (MaDonVi), or add it to agencies in the config.`)
}

/**
 * One CSV field: quoted when it holds a separator, a quote or a line break; a text starting
 * with = + - @ (a spreadsheet would run it as a formula) is prefixed with an apostrophe.
 */
export function csvField (v: unknown): string {
  if (v === null || v === undefined) return ''
  let text = String(v)
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** Rows as CSV (RFC 4180, CRLF), with a byte-order mark so that spreadsheets read Vietnamese text as UTF-8. */
export const toCsv = (header: readonly string[], rows: ReadonlyArray<readonly unknown[]>): string =>
  '\uFEFF' + [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n'

/** A paging parameter: absent is `fallback`; otherwise an integer in [min, max], else a 400. */
function intParam (name: string, v: unknown, fallback: number, min: number, max: number): number {
  if (v === undefined || v === '') return fallback
  const n = Number(v)
  if (!Number.isInteger(n) || n < min || n > max) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', `${name} is an integer from ${min} to ${max}.`)
  return n
}

/** json (default) or csv. */
function formatParam (v: unknown): 'json' | 'csv' {
  if (v === undefined || v === 'json') return 'json'
  if (v === 'csv') return 'csv'
  throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'format is json or csv.')
}

export function statisticsRoutes (app: FastifyInstance, auth: Authenticate, stats: Statistics, agencies: AgencySources): void {
  const params = (q: unknown): { agency: string, period: string, drill: boolean } => {
    const { agency, period, drill } = (q ?? {}) as Record<string, unknown>
    if (typeof agency !== 'string' || agency === '') throw lgspError('LGSP_ERR_INDICATORS_AGENCY')
    if (typeof period !== 'string') throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'period is yyyy-MM, yyyy-Qn or yyyy.')
    return { agency, period, drill: strictBoolean('drill', drill) }
  }

  // The portal (DVCQG) pulls the province's figures: members that read all, or operators.
  app.get('/v1/indicators', { preHandler: auth, schema: routeDocs.indicators }, async (req, reply) => {
    const member = memberOf(req)
    if (member.read !== 'all' && !member.admin) throw lgspError('LGSP_ERR_AUTH_READ_FORBIDDEN')
    const p = params(req.query)
    const format = formatParam((req.query as Record<string, unknown>).format)
    const answer = await stats.indicators(p.agency, p.period, p.drill)
    // Dossiers in the period name a real agency: only empty figures are checked (the check may count the whole ledger).
    if (answer.report.received === 0) await checkAgency(p.agency, stats, agencies)
    if (format === 'json') return answer
    // The same numbers as the JSON answer, one indicator a line, for the offices that exchange figures as spreadsheets.
    const r = answer.report
    const profile = r.profile === undefined ? '' : `${r.profile.name} v${r.profile.version}`
    void reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="indicators-${p.agency}-${p.period}.csv"`)
    return toCsv(['agency', 'period', 'closed', 'revision', 'profile', 'indicator', 'name', 'group', 'numerator', 'denominator', 'rate', 'points', 'max', 'target'],
      r.indicators.map((i) => [r.agency, r.period, answer.closed, answer.revision, profile, i.key, i.name, i.group, i.numerator, i.denominator, i.rate, i.points, i.max, i.target]))
  })

  // The drill-down a portal or an office pulls: the dossiers behind one figure, paged, each with its dates and reason.
  app.get('/v1/indicators/dossiers', { preHandler: auth, schema: routeDocs.indicatorDossiers }, async (req, reply) => {
    const member = memberOf(req)
    if (member.read !== 'all' && !member.admin) throw lgspError('LGSP_ERR_AUTH_READ_FORBIDDEN')
    const q = (req.query ?? {}) as Record<string, unknown>
    const p = params(q)
    const side = q.side === undefined || q.side === 'denominator' ? 'denominator' : q.side === 'numerator' ? 'numerator' : undefined
    if (side === undefined) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'side is numerator or denominator.')
    const format = formatParam(q.format)
    const page = await stats.dossiers(p.agency, p.period, String(q.indicator ?? '') as IndicatorKey, side, intParam('offset', q.offset, 0, 0, 100_000_000), intParam('limit', q.limit, 100, 1, 1000))
    if (page.total === 0) await checkAgency(p.agency, stats, agencies)
    if (format === 'json') return page
    void reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="dossiers-${p.agency}-${p.period}-${page.indicator}.csv"`)
    return toCsv(['maHoSo', 'agency', 'state', 'received', 'due', 'dueSource', 'end', 'endSource', 'counted', 'verdict', 'reason'],
      page.dossiers.map((d) => [d.maHoSo, d.agency, d.state, d.received, d.due, d.dueSource, d.end, d.endSource, d.counted, d.verdict, d.reason]))
  })

  app.post('/v1/indicators/close', { preHandler: auth, schema: routeDocs.closePeriod }, async (req) => {
    requireAdmin(memberOf(req))
    const p = params(req.body)
    await checkAgency(p.agency, stats, agencies)
    return stats.close(p.agency, p.period)
  })

  // The one-stop software sends its own list of the period's dossiers; the gateway says what differs.
  app.post('/v1/reconcile/onestop', { preHandler: auth, schema: routeDocs.reconcileOnestop }, async (req) => {
    const member = memberOf(req)
    if (!member.messageKinds.includes('dossier')) throw lgspError('LGSP_ERR_AUTH_KIND_FORBIDDEN', 'Only a member that sends dossiers can compare its own list.')
    checkSchema(validators.onestopReconcile, req.body)
    const b = req.body as { agency: string, period: string, dossiers: Array<{ MaHoSo: string, TrangThaiHoSo: number | string }> }
    return stats.reconcileOnestop(member.id, b.agency, b.period, b.dossiers)
  })

  app.post('/v1/reconcile', { preHandler: auth, schema: routeDocs.reconcile }, async (req) => {
    requireAdmin(memberOf(req))
    const p = params(req.body)
    const repair = strictBoolean('repair', (req.body as { repair?: unknown }).repair)
    return stats.reconcile(p.agency, p.period, repair)
  })
}
