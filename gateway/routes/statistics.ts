/**
 * Indicators for the national portal, period close, and reconciliation.
 */
import type { FastifyInstance } from 'fastify'
import { lgspError } from '../errors.js'
import { memberOf, requireAdmin, type Authenticate } from '../plugins/auth.js'
import type { Statistics } from '../statistics.js'
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

export function statisticsRoutes (app: FastifyInstance, auth: Authenticate, stats: Statistics): void {
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
    return stats.indicators(p.agency, p.period, p.drill)
  })

  app.post('/v1/indicators/close', { preHandler: auth, schema: routeDocs.closePeriod }, async (req) => {
    requireAdmin(memberOf(req))
    const p = params(req.body)
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
