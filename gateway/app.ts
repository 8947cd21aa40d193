/**
 * Builds the gateway's HTTP app from a config and its parts. It does not listen: server.ts
 * does, and tests drive the app with `inject`.
 */
import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import formbody from '@fastify/formbody'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { traceIdOf, type AdapterRegistry } from '../adapters/registry.js'
import type { GatewayConfig } from '../schemas/types.js'
import { TokenSigner } from './crypto/token.js'
import type { Delivery } from './delivery/index.js'
import type { Catalogue } from './catalogue.js'
import type { Logger } from './logger.js'
import { defaultAttemptLimits, Members } from './members.js'
import { bearerAuth } from './plugins/auth.js'
import { frameworkErrors, problemPlugin } from './plugins/problem.js'
import { metricsRoutes } from './plugins/metrics.js'
import { openapiPlugin } from './plugins/openapi.js'
import { adminRoutes } from './routes/admin.js'
import { consoleRoutes } from './routes/console.js'
import { dossierRoutes } from './routes/dossiers.js'
import { componentRoutes } from './component-routes.js'
import { facadeRoutes } from './routes/dvcqg-facade.js'
import { healthRoutes } from './routes/health.js'
import { paymentRoutes } from './routes/payments.js'
import type { Payments } from './payments.js'
import type { Statistics } from './statistics.js'
import { statisticsRoutes } from './routes/statistics.js'
import { tokenRoutes } from './routes/token.js'
import type { Store } from './store/types.js'
import { uuidv7 } from './ids.js'
import { lgspError } from './errors.js'
import { WarningTally, type WarningCode } from './warnings.js'
import type { GatewaySigning } from './crypto/signing.js'
import { Backpressure } from './delivery/backpressure.js'

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

/** An incoming X-Request-Id the gateway adopts as the request id: 1 to 128 visible ASCII characters (anything else gets a new id). */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/
/** The trace id of a valid incoming traceparent header (adapters/http.ts: the delivery carries it on). */
export { traceIdOf }

/** The request id: the caller's X-Request-Id when it is safe to log and echo, else a new UUIDv7. */
function requestIdOf (req: IncomingMessage): string {
  const h = req.headers['x-request-id']
  return typeof h === 'string' && REQUEST_ID.test(h) ? h : uuidv7()
}

/** HTTPS (and mTLS) options from `http.tls`: PEM files read once at start-up. */
export function httpsOptions (config: GatewayConfig): { key: Buffer, cert: Buffer, ca?: Buffer, requestCert?: boolean, rejectUnauthorized?: boolean } | undefined {
  const tls = config.http.tls
  if (tls === undefined) return undefined
  const read = (key: string, path: string): Buffer => {
    try {
      return readFileSync(path)
    } catch (err) {
      throw lgspError('LGSP_ERR_CONFIG_INVALID', `http.tls.${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); give the path of a PEM file the gateway's user can read.`)
    }
  }
  const out: { key: Buffer, cert: Buffer, ca?: Buffer, requestCert?: boolean, rejectUnauthorized?: boolean } = { key: read('keyFile', tls.keyFile), cert: read('certFile', tls.certFile) }
  // mTLS: the handshake itself refuses a client without a certificate from these CAs.
  if (tls.clientCaFile !== undefined) Object.assign(out, { ca: read('clientCaFile', tls.clientCaFile), requestCert: true, rejectUnauthorized: true })
  return out
}

export async function buildApp (config: GatewayConfig, deps: AppDeps): Promise<FastifyInstance> {
  const https = httpsOptions(config)
  const accepted = new WeakMap<object, string>()
  const app = Fastify({
    // Typed as plain HTTP: the routes are the same on an https server (node's https.Server is an http.Server).
    ...(https === undefined ? {} : { https } as object),
    // Behind a terminator: X-Forwarded-For names the client (req.ip), for the callback allow-list and the log.
    // Fastify takes a hop count too (proxy-addr), which its types leave out.
    trustProxy: (config.http.trustProxy ?? false) as boolean | string[],
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Fastify's own per-request lines are replaced by the single onResponse line below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.http.bodyLimitBytes,
    genReqId: requestIdOf,
    requestIdHeader: false,
    return503OnClosing: true,
    // Router refusals (bad URL, over-long parameter) as problem+json too.
    frameworkErrors
  })
  // A caller's W3C trace: every log line of the request carries its trace id.
  app.addHook('onRequest', async (req) => {
    const traceId = traceIdOf(req.headers.traceparent)
    if (traceId !== undefined) req.log = req.log.child({ traceId })
  })
  // One line per request, after the reply: no query strings, no bodies. The accepted message's
  // id ties the request (and its trace) to the delivery lines, which carry it.
  app.addHook('onResponse', async (req, reply) => {
    const messageId = accepted.get(req)
    req.log.info({ method: req.method, url: req.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime), member: req.member?.id, ip: req.ip, ...(messageId === undefined ? {} : { messageId }) }, 'request')
  })
  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-request-id', req.id)
    // The accept reply's messageId (202), read from the serialised reply, not re-parsed.
    if (reply.statusCode === 202 && typeof payload === 'string') {
      const m = /"messageId":"([^"]{1,64})"/.exec(payload)
      if (m !== null) accepted.set(req, m[1]!)
    }
  })
  problemPlugin(app, config.http.bodyLimitBytes)
  await app.register(formbody, { bodyLimit: 16 * 1024 })
  // Before the routes: the document is built from the routes added after it.
  await openapiPlugin(app, config)

  const signer = new TokenSigner(config.auth.tokenSecret!, config.auth.issuer, config.auth.tokenTtlSeconds)
  // On Redis, failed credential checks count at every instance (gateway/members.ts).
  const members = new Members(config.members, defaultAttemptLimits, deps.store.attempts)
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
  const backpressure = new Backpressure(deps.store, config.delivery.backlog ?? { limit: 0, refreshMs: 1000 })
  backpressure.start()
  app.addHook('onClose', async () => backpressure.stop())
  const intake = { store: deps.store, adapters: deps.adapters, catalogue: deps.catalogue, access: config.access, notify, onWarnings, ...(receipts === undefined ? {} : { receipts }), ...(backpressure.enabled ? { backpressure } : {}) }
  dossierRoutes(app, auth, intake)
  if (config.facade.enabled) facadeRoutes(app, config, { ...intake, members, signer })
  adminRoutes(app, auth, deps.store, deps.delivery, tally)
  if (deps.payments !== undefined) paymentRoutes(app, auth, deps.payments)
  if (deps.statistics !== undefined) statisticsRoutes(app, auth, deps.statistics, { config, learnt: () => deps.catalogue.agencies, store: deps.store })
  // The components' own routes (the tax service's notices pushed by DVCQG, …).
  await componentRoutes(app, config, deps.adapters, { intake: { store: deps.store, adapters: deps.adapters, catalogue: deps.catalogue, access: config.access, notify }, members, auth, log: deps.logger, ...(deps.signing === undefined ? {} : { verifier: deps.signing.verifier }) })
  consoleRoutes(app, { config, store: deps.store, members, delivery: deps.delivery, statistics: deps.statistics, payments: deps.payments, signing: deps.signing })
  healthRoutes(app, deps.store, deps.delivery, deps.closing ?? (() => false))
  metricsRoutes(app, config, deps.store, deps.delivery)
  return app
}
