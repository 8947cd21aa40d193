/**
 * Operator endpoints (members with admin: true): queues, the dead-letter list, replay and
 * discard (one id or in bulk, with a reason written to the message log), paused destinations.
 */
import type { FastifyInstance } from 'fastify'
import type { Delivery } from '../delivery/index.js'
import { actOnMatching, actOnOne, hasCriterion, type DeadSelection } from '../delivery/dlq.js'
import { lgspError } from '../errors.js'
import type { Store } from '../store/types.js'
import type { WarningTally } from '../warnings.js'
import { memberOf, requireAdmin, type Authenticate } from '../plugins/auth.js'
import { routeDocs } from '../plugins/openapi.js'

const idParam = (params: unknown): number => {
  const id = Number((params as { id: string }).id)
  if (!Number.isSafeInteger(id) || id <= 0) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'The dead-letter id is a positive integer.')
  return id
}

/** The operator's reason from the body; required for what cannot be undone (discard) and for bulk actions. */
const reasonOf = (body: unknown, required: boolean, fallback: string): string => {
  const r = (body as { reason?: unknown } | undefined)?.reason
  if (typeof r === 'string' && r.trim().length > 0 && r.length <= 500) return r.trim()
  if (r === undefined && !required) return fallback
  throw lgspError('LGSP_ERR_DLQ_REASON_REQUIRED')
}

/** The bulk selection from the body: strings only, at least one criterion. */
const selectionOf = (body: unknown): DeadSelection => {
  const b = (body ?? {}) as Record<string, unknown>
  const sel: DeadSelection = {}
  for (const k of ['destination', 'code', 'maHoSo'] as const) {
    const v = b[k]
    if (v === undefined) continue
    if (typeof v !== 'string' || v.length === 0 || v.length > 200) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', `${k} is a non-empty string.`)
    sel[k] = v
  }
  if (!hasCriterion(sel)) throw lgspError('LGSP_ERR_DLQ_FILTER_REQUIRED')
  return sel
}

export function adminRoutes (app: FastifyInstance, auth: Authenticate, store: Store, delivery: Delivery | undefined, tally: WarningTally): void {
  const admin: Authenticate = async (req, reply) => {
    await auth(req, reply)
    requireAdmin(memberOf(req))
  }

  app.get('/v1/admin/queues', { preHandler: admin, schema: routeDocs.queues }, async () => {
    const workers = new Map((delivery?.status() ?? []).map((w) => [w.destination, w]))
    return (await store.queueStats()).map((q) => ({ ...q, worker: workers.get(q.destination) ?? null }))
  })

  // How clean each member's data is: the normalisations intake made, by code, since start.
  app.get('/v1/admin/normalisations', { preHandler: admin, schema: routeDocs.normalisations }, async () => ({ since: tally.since, members: tally.snapshot() }))

  app.get('/v1/admin/dlq', { preHandler: admin, schema: routeDocs.deadLetters }, async (req) => {
    const q = req.query as { destination?: string, maHoSo?: string, code?: string, limit?: string }
    for (const name of ['destination', 'maHoSo', 'code', 'limit'] as const) {
      if (q[name] !== undefined && typeof (q[name] as unknown) !== 'string') throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', `Give ${name} once.`)
    }
    const limit = q.limit === undefined ? 100 : Number(q.limit)
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'limit is 1 to 1000.')
    const filter: Parameters<Store['listDead']>[0] = { limit }
    if (q.destination !== undefined) filter.destination = q.destination
    if (q.maHoSo !== undefined) filter.maHoSo = q.maHoSo
    if (q.code !== undefined) filter.code = q.code
    return { entries: await store.listDead(filter) }
  })

  // Bulk first: fastify matches the static segment before the :id parameter anyway.
  for (const [action, done, docs] of [['replay', 'replayed', routeDocs.bulkReplay], ['discard', 'discarded', routeDocs.bulkDiscard]] as const) {
    app.post(`/v1/admin/dlq/${action}`, { preHandler: admin, schema: docs }, async (req) => {
      const selection = selectionOf(req.body)
      const reason = reasonOf(req.body, true, '')
      const by = memberOf(req).id
      const result = await actOnMatching(store, action, selection, by, reason)
      req.log.warn({ by, filter: selection, reason, [done]: result.ids.length, logMessageId: result.logMessageId }, `dead letters ${done} in bulk`)
      if (result.ids.length > 0) delivery?.notify()
      return { [done]: result.ids.length, ids: result.ids, logMessageId: result.logMessageId ?? null }
    })
  }

  app.post('/v1/admin/dlq/:id/replay', { preHandler: admin, schema: routeDocs.replay }, async (req) => {
    const id = idParam(req.params)
    const by = memberOf(req).id
    const reason = reasonOf(req.body, false, 'replayed (no reason given)')
    const done = await actOnOne(store, 'replay', id, by, reason)
    if (done === undefined) throw lgspError('LGSP_ERR_DLQ_NOT_FOUND', `No dead-letter entry ${id}.`)
    req.log.warn({ unit: id, by, reason, logMessageId: done.logMessageId }, 'dead letter replayed')
    delivery?.notify()
    return { id, replayed: true, logMessageId: done.logMessageId ?? null }
  })

  app.post('/v1/admin/dlq/:id/discard', { preHandler: admin, schema: routeDocs.discard }, async (req) => {
    const id = idParam(req.params)
    const by = memberOf(req).id
    const reason = reasonOf(req.body, true, '')
    const done = await actOnOne(store, 'discard', id, by, reason)
    if (done === undefined) throw lgspError('LGSP_ERR_DLQ_NOT_FOUND', `No dead-letter entry ${id}.`)
    req.log.warn({ unit: id, by, reason, logMessageId: done.logMessageId }, 'dead letter discarded')
    delivery?.notify()
    return { id, discarded: true, logMessageId: done.logMessageId ?? null }
  })

  // A destination paused because it refused the gateway's credentials: resume once they are fixed
  // (it also resumes by itself when a probe goes through).
  app.post('/v1/admin/destinations/:name/resume', { preHandler: admin, schema: routeDocs.resume }, async (req) => {
    const name = (req.params as { name: string }).name
    if (delivery === undefined || !delivery.has(name)) throw lgspError('LGSP_ERR_DESTINATION_UNKNOWN', `No delivery worker for destination ${name} in this process.`)
    const by = memberOf(req).id
    const resumed = delivery.resume(name, by)
    req.log.warn({ destination: name, by, resumed }, 'resume asked')
    return { destination: name, resumed, paused: false }
  })
}
