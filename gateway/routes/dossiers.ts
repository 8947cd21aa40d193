/**
 * The inbound API: dossiers and progress in DVCQG's field names, and the gateway's view
 * of a dossier.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { traceIdOf } from '../../adapters/registry.js'
import { lgspError } from '../errors.js'
import { acceptDossiers, acceptProgress, type IntakeDeps, type IntakeResult, type IntakeRequest } from '../intake.js'
import { formatDvcqgDate } from '../ledger/dates.js'
import { stateNames } from '../ledger/state-machine.js'
import type { Store, UnitView } from '../store/types.js'
import { memberOf, type Authenticate } from '../plugins/auth.js'
import type { Receipt } from '../crypto/receipts.js'
import { routeDocs } from '../plugins/openapi.js'

const MA_HO_SO = /^[A-Za-z0-9][A-Za-z0-9._-]{4,63}$/

function maHoSoParam (req: FastifyRequest): string {
  const id = (req.params as { maHoSo: string }).maHoSo
  if (!MA_HO_SO.test(id)) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'MaHoSo in the URL has characters a dossier code cannot have.')
  return id
}

function intakeRequest (req: FastifyRequest): IntakeRequest {
  if (req.rawBody === undefined) throw lgspError('LGSP_ERR_REQUEST_MEDIA_TYPE')
  const header = req.headers['idempotency-key']
  const q = (req.query ?? {}) as { destinations?: unknown }
  if (q.destinations !== undefined && typeof q.destinations !== 'string') throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'Give destinations once, comma-separated.')
  const r: IntakeRequest = { member: memberOf(req), body: req.body, raw: req.rawBody }
  if (req.signature !== undefined) r.signature = req.signature
  const traceId = traceIdOf(req.headers.traceparent)
  if (traceId !== undefined) r.traceId = traceId
  if (header !== undefined) {
    if (typeof header !== 'string') throw lgspError('LGSP_ERR_IDEMPOTENCY_KEY_INVALID')
    r.idempotencyKey = header
  }
  if (typeof q.destinations === 'string') r.destinations = q.destinations.split(',').map((d) => d.trim()).filter((d) => d !== '')
  return r
}

/** Where a destination stands with a dossier, summed up from its units. */
function summary (units: UnitView[]): string {
  for (const s of ['dead', 'retrying', 'inflight', 'pending', 'blocked'] as const) if (units.some((u) => u.state === s)) return s
  return 'delivered'
}

export function dossierRoutes (app: FastifyInstance, auth: Authenticate, deps: IntakeDeps & { store: Store }): void {
  const answer = (result: IntakeResult, location: string | undefined, reply: import('fastify').FastifyReply): IntakeResult['reply'] & { receipt?: Receipt } => {
    reply.code(202)
    if (location !== undefined) reply.header('location', location)
    if (result.replayed) reply.header('idempotent-replayed', 'true')
    return result.receipt === undefined ? result.reply : { ...result.reply, receipt: result.receipt }
  }

  app.post('/v1/dossiers', { preHandler: auth, schema: routeDocs.postDossiers }, async (req, reply) => {
    const result = await acceptDossiers(deps, intakeRequest(req))
    const body = req.body as { MaHoSo?: string }
    return answer(result, Array.isArray(req.body) ? undefined : `/v1/dossiers/${body.MaHoSo ?? ''}`, reply)
  })

  app.post('/v1/dossiers/:maHoSo/progress', { preHandler: auth, schema: routeDocs.postProgress }, async (req, reply) => {
    const maHoSo = maHoSoParam(req)
    const result = await acceptProgress(deps, intakeRequest(req), maHoSo)
    return answer(result, `/v1/dossiers/${maHoSo}`, reply)
  })

  app.get('/v1/dossiers/:maHoSo', { preHandler: auth, schema: routeDocs.getDossier }, async (req) => {
    const member = memberOf(req)
    const maHoSo = maHoSoParam(req)
    if (member.read === 'none' && !member.admin) throw lgspError('LGSP_ERR_AUTH_READ_FORBIDDEN')
    const view = await deps.store.getDossier(maHoSo)
    if (view === undefined) throw lgspError('LGSP_ERR_DOSSIER_NOT_FOUND', `Dossier ${maHoSo} is not known to the gateway.`)
    if (member.read === 'own' && !member.admin && view.row.owner !== member.id) throw lgspError('LGSP_ERR_AUTH_READ_FORBIDDEN')
    const { row } = view
    return {
      MaHoSo: row.maHoSo,
      MaTTHC: row.maTTHC,
      TrangThaiHoSo: row.state,
      stateName: stateNames[row.state],
      owner: row.owner,
      createdAt: new Date(row.createdAt).toISOString(),
      updatedAt: new Date(row.updatedAt).toISOString(),
      record: row.record,
      history: view.history.map((e) => ({
        messageId: e.messageId,
        kind: e.kind,
        at: formatDvcqgDate(e.at),
        receivedAt: new Date(e.receivedAt).toISOString(),
        from: e.fromState,
        to: e.toState,
        applied: e.applied,
        sender: e.sender
      })),
      deliveries: Object.fromEntries(Object.entries(view.deliveries).map(([dest, units]) => [dest, { state: summary(units), units }]))
    }
  })
}
