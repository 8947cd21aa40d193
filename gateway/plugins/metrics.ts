/**
 * GET /metrics: Prometheus' text exposition format. Scrapers are let in by address
 * (`metrics.allowFrom`) or by bearer token (`metrics.token`, what Prometheus sends with
 * `authorization: {credentials: …}`); with neither configured, anyone may scrape, as
 * with /healthz. Queue figures are read from the store at each scrape (gateway/metrics.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { GatewayConfig } from '../../schemas/types.js'
import type { Delivery } from '../delivery/index.js'
import { lgspError } from '../errors.js'
import { metrics, METRICS_CONTENT_TYPE } from '../metrics.js'
import type { Store } from '../store/types.js'
import { routeDocs } from './openapi.js'

/** An address as configured: IPv4-mapped IPv6 (::ffff:10.0.0.1) is the IPv4 address. */
const plainAddress = (ip: string): string => ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/** Whether the request may scrape: from an allowed address, or with the token. */
export function scrapeAllowed (settings: GatewayConfig['metrics'], req: FastifyRequest): boolean {
  const { allowFrom, token } = settings
  if (allowFrom.length === 0 && token === undefined) return true
  if (allowFrom.length > 0 && allowFrom.map(plainAddress).includes(plainAddress(req.socket.remoteAddress ?? req.ip))) return true
  const header = req.headers.authorization
  if (token === undefined || header === undefined) return false
  const m = /^Bearer (.+)$/i.exec(header)
  // Compared as digests: equal lengths, constant time.
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token))
}

/** Registers GET /metrics (when `metrics.enabled`). */
export function metricsRoutes (app: FastifyInstance, config: GatewayConfig, store: Store, delivery: Delivery | undefined): void {
  if (!config.metrics.enabled) return
  metrics.enableDefaults()
  app.get('/metrics', { schema: routeDocs.metrics }, async (req, reply) => {
    if (!scrapeAllowed(config.metrics, req)) throw lgspError('LGSP_ERR_AUTH_METRICS_FORBIDDEN')
    let queues
    try {
      queues = await store.queueStats()
    } catch (err) {
      // A scrape still answers (process and intake figures) while the store is away.
      req.log.warn({ err }, 'metrics: queue figures unavailable')
    }
    metrics.refresh(queues, delivery?.status() ?? [])
    return reply.header('content-type', METRICS_CONTENT_TYPE).send(await metrics.text())
  })
}
