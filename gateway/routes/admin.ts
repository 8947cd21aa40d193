/**
 * Operator endpoints (members with admin: true): queues, the dead-letter list, replay.
 */
import type { FastifyInstance } from 'fastify'
import type { Delivery } from '../delivery/index.js'
import { lgspError } from '../errors.js'
import type { Store } from '../store/types.js'
import type { WarningTally } from '../warnings.js'
import { memberOf, requireAdmin, type Authenticate } from '../plugins/auth.js'

const idParam = (params: unknown): number => {
  const id = Number((params as { id: string }).id)
  if (!Number.isSafeInteger(id) || id <= 0) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'The dead-letter id is a positive integer.')
  return id
}

export function adminRoutes (app: FastifyInstance, auth: Authenticate, store: Store, delivery: Delivery | undefined, tally: WarningTally): void {
  const admin: Authenticate = async (req, reply) => {
    await auth(req, reply)
    requireAdmin(memberOf(req))
  }

  app.get('/v1/admin/queues', { preHandler: admin }, async () => {
    const workers = new Map((delivery?.status() ?? []).map((w) => [w.destination, w]))
    return (await store.queueStats()).map((q) => ({ ...q, worker: workers.get(q.destination) ?? null }))
  })

  // How clean each member's data is: the normalisations intake made, by code, since start.
  app.get('/v1/admin/normalisations', { preHandler: admin }, async () => ({ since: tally.since, members: tally.snapshot() }))

  app.get('/v1/admin/dlq', { preHandler: admin }, async (req) => {
    const q = req.query as { destination?: string, maHoSo?: string, limit?: string }
    for (const name of ['destination', 'maHoSo', 'limit'] as const) {
      if (q[name] !== undefined && typeof (q[name] as unknown) !== 'string') throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', `Give ${name} once.`)
    }
    const limit = q.limit === undefined ? 100 : Number(q.limit)
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'limit is 1 to 1000.')
    const filter: Parameters<Store['listDead']>[0] = { limit }
    if (q.destination !== undefined) filter.destination = q.destination
    if (q.maHoSo !== undefined) filter.maHoSo = q.maHoSo
    return { entries: await store.listDead(filter) }
  })

  app.post('/v1/admin/dlq/:id/replay', { preHandler: admin }, async (req) => {
    const id = idParam(req.params)
    if (!await store.replayDead(id, Date.now())) throw lgspError('LGSP_ERR_DLQ_NOT_FOUND', `No dead-letter entry ${id}.`)
    req.log.info({ unit: id, by: memberOf(req).id }, 'dead letter replayed')
    delivery?.notify()
    return { id, replayed: true }
  })

  app.post('/v1/admin/dlq/:id/discard', { preHandler: admin }, async (req) => {
    const id = idParam(req.params)
    const reason = `discarded by ${memberOf(req).id}`
    if (!await store.discardDead(id, Date.now(), reason)) throw lgspError('LGSP_ERR_DLQ_NOT_FOUND', `No dead-letter entry ${id}.`)
    req.log.info({ unit: id, by: memberOf(req).id }, 'dead letter discarded')
    delivery?.notify()
    return { id, discarded: true }
  })
}
