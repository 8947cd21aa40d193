/**
 * Liveness and readiness for load balancers and operators.
 */
import type { FastifyInstance } from 'fastify'
import type { Delivery } from '../delivery/index.js'
import { lgspError } from '../errors.js'
import type { Store } from '../store/types.js'
import { sendProblem } from '../plugins/problem.js'
import { routeDocs } from '../plugins/openapi.js'

export function healthRoutes (app: FastifyInstance, store: Store, delivery: Delivery | undefined, closing: () => boolean): void {
  app.get('/healthz', { schema: routeDocs.healthz }, async () => ({ status: 'ok' }))

  app.get('/readyz', { schema: routeDocs.readyz }, async (_req, reply) => {
    const storeUp = await store.ping()
    const workersUp = delivery === undefined || delivery.healthy()
    if (closing() || !storeUp || !workersUp) {
      return sendProblem(reply, lgspError('LGSP_ERR_SERVER_UNAVAILABLE', `store ${storeUp ? 'up' : 'down'}, workers ${workersUp ? 'up' : 'down'}${closing() ? ', shutting down' : ''}`))
    }
    // A paused destination (credentials refused) keeps the instance in service: intake still
    // works and its queue holds, and another instance would be refused just the same. The
    // reply says so (200, status "degraded", `paused`) for monitoring to alert on.
    const paused = delivery?.paused() ?? []
    return { status: paused.length > 0 ? 'degraded' : 'ready', store: store.kind, paused, workers: delivery?.status() ?? [] }
  })
}
