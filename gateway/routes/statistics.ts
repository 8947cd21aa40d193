/**
 * Indicators for the national portal, period close, and reconciliation.
 */
import type { FastifyInstance } from 'fastify'
import type { GatewayConfig } from '../../schemas/types.js'
import { lgspError } from '../errors.js'
import { memberOf, requireAdmin, type Authenticate } from '../plugins/auth.js'
import type { Statistics } from '../statistics.js'
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

export function statisticsRoutes (app: FastifyInstance, auth: Authenticate, stats: Statistics, agencies: AgencySources): void {
  const params = (q: unknown): { agency: string, period: string, drill: boolean } => {
    const { agency, period, drill } = (q ?? {}) as Record<string, unknown>
    if (typeof agency !== 'string' || agency === '') throw lgspError('LGSP_ERR_INDICATORS_AGENCY')
    if (typeof period !== 'string') throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'period is yyyy-MM, yyyy-Qn or yyyy.')
    return { agency, period, drill: strictBoolean('drill', drill) }
  }

  // The portal (DVCQG) pulls the province's figures: members that read all, or operators.
  app.get('/v1/indicators', { preHandler: auth, schema: routeDocs.indicators }, async (req) => {
    const member = memberOf(req)
    if (member.read !== 'all' && !member.admin) throw lgspError('LGSP_ERR_AUTH_READ_FORBIDDEN')
    const p = params(req.query)
    const answer = await stats.indicators(p.agency, p.period, p.drill)
    // Dossiers in the period name a real agency: only empty figures are checked (the check may count the whole ledger).
    if (answer.report.received === 0) await checkAgency(p.agency, stats, agencies)
    return answer
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
