/**
 * Builds the gateway's HTTP app from a config and its parts. It does not listen: server.ts
 * does, and tests drive the app with `inject`.
 */
import formbody from '@fastify/formbody'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { AdapterRegistry } from '../adapters/registry.js'
import type { GatewayConfig } from '../schemas/types.js'
import { TokenSigner } from './crypto/token.js'
import type { Delivery } from './delivery/index.js'
import type { Catalogue } from './catalogue.js'
import type { Logger } from './logger.js'
import { Members } from './members.js'
import { bearerAuth } from './plugins/auth.js'
import { frameworkErrors, problemPlugin } from './plugins/problem.js'
import { adminRoutes } from './routes/admin.js'
import { dossierRoutes } from './routes/dossiers.js'
import { facadeRoutes } from './routes/dvcqg-facade.js'
import { healthRoutes } from './routes/health.js'
import { paymentRoutes } from './routes/payments.js'
import type { Payments } from './payments.js'
import type { Statistics } from './statistics.js'
import { statisticsRoutes } from './routes/statistics.js'
import { taxNoticeRoutes } from './routes/tax-notices.js'
import { tokenRoutes } from './routes/token.js'
import type { Store } from './store/types.js'
import { uuidv7 } from './ids.js'
import { WarningTally, type WarningCode } from './warnings.js'
import type { GatewaySigning } from './crypto/signing.js'

export interface AppDeps {
  store: Store
  adapters: AdapterRegistry
  catalogue: Catalogue
  logger: Logger
  /** Absent when this process runs no delivery workers. */
  delivery?: Delivery
  statistics?: Statistics
  /** Present when payments are configured. */
  payments?: Payments
  /** Whether the gateway is shutting down (for /readyz). */
  closing?: () => boolean
  /** Member signatures, receipts (absent: neither is checked nor signed). */
  signing?: GatewaySigning
}

export async function buildApp (config: GatewayConfig, deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Fastify's own per-request lines are replaced by the single onResponse line below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.http.bodyLimitBytes,
    genReqId: () => uuidv7(),
    requestIdHeader: false,
    return503OnClosing: true,
    // Router refusals (bad URL, over-long parameter) as problem+json too.
    frameworkErrors
  })
  // One line per request, after the reply: no query strings, no bodies.
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, url: req.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime), member: req.member?.id }, 'request')
  })
  app.addHook('onSend', async (req, reply) => { reply.header('x-request-id', req.id) })
  problemPlugin(app, config.http.bodyLimitBytes)
  await app.register(formbody, { bodyLimit: 16 * 1024 })

  const signer = new TokenSigner(config.auth.tokenSecret!, config.auth.issuer, config.auth.tokenTtlSeconds)
  const members = new Members(config.members)
  const auth = bearerAuth(signer, members, deps.signing?.verifier)
  const notify = (destinations: readonly string[]): void => deps.delivery?.notify(destinations)
  const tally = new WarningTally()
  // Codes and counts only: a warning never carries the value sent.
  const onWarnings = (member: string, kind: string, warnings: Partial<Record<WarningCode, number>>): void => {
    tally.add(member, warnings)
    deps.logger.info({ member, kind, warnings }, 'normalised')
  }

  tokenRoutes(app, signer, members)
  const receipts = config.signatures.receipts ? deps.signing?.batch : undefined
  const intake = { store: deps.store, adapters: deps.adapters, catalogue: deps.catalogue, access: config.access, notify, onWarnings, ...(receipts === undefined ? {} : { receipts }) }
  dossierRoutes(app, auth, intake)
  if (config.facade.enabled) facadeRoutes(app, config, { ...intake, members, signer })
  adminRoutes(app, auth, deps.store, deps.delivery, tally)
  if (deps.payments !== undefined) paymentRoutes(app, auth, deps.payments)
  if (deps.statistics !== undefined) statisticsRoutes(app, auth, deps.statistics)
  taxNoticeRoutes(app, auth, { store: deps.store, adapters: deps.adapters, catalogue: deps.catalogue, access: config.access, notify, members, ...(deps.signing === undefined ? {} : { verifier: deps.signing.verifier }) }, config)
  healthRoutes(app, deps.store, deps.delivery, deps.closing ?? (() => false))
  return app
}
