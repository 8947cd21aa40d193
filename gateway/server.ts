/**
 * Runs a gateway: opens the store, builds adapters, workers and the app, listens, and
 * shuts down gracefully (stop accepting, finish requests and deliveries in flight, close
 * the store).
 */
import type { FastifyInstance } from 'fastify'
import type { DestinationStream } from 'pino'
import { AdapterRegistry } from '../adapters/registry.js'
import type { GatewayConfig } from '../schemas/types.js'
import { buildApp } from './app.js'
import { Catalogue } from './catalogue.js'
import { CatalogueSync, catalogueSyncSettings, defaultSnapshotPath } from './catalogue-sync.js'
import { WorkingCalendar } from './ledger/calendar.js'
import { updateFacts } from './ledger/indicators.js'
import { Statistics } from './statistics.js'
import { Delivery } from './delivery/index.js'
import { createLogger, type Logger } from './logger.js'
import { Payments } from './payments.js'
import { GplxPoller, TaxNoticePoller } from './polling.js'
import type { TaxAdapter } from '../adapters/tax/index.js'
import { XmlParserPool } from '../adapters/xml/index.js'
import { Members } from './members.js'
import type { GplxAdapter } from '../adapters/gplx/index.js'
import { SqliteStore } from './store/sqlite.js'
import { defaultInstance, RedisStore } from './store/redis/index.js'
import type { DossierFacts } from './ledger/indicators.js'
import type { DossierEvent, DossierRow } from './ledger/plan.js'
import type { Store } from './store/types.js'
import { GatewaySigning } from './crypto/signing.js'

export interface Gateway {
  app: FastifyInstance
  store: Store
  signing: GatewaySigning
  adapters: AdapterRegistry
  delivery: Delivery | undefined
  payments: Payments | undefined
  statistics: Statistics | undefined
  pollers: GplxPoller[]
  noticePollers: TaxNoticePoller[]
  /** The procedure catalogue (with what DVCQG taught it). */
  catalogue: Catalogue
  /** The DVCQG catalogue-sync job, when on. */
  catalogueSync: CatalogueSync | undefined
  logger: Logger
  /** http://host:port once listening. */
  url: string
  close: () => Promise<void>
}

export interface StartOptions {
  /** Log sink (tests read lines back from it); stdout otherwise. */
  logStream?: DestinationStream
  /** Listen on http.host/http.port (default); false builds everything but does not listen. */
  listen?: boolean
}

const HOUR = 3600_000

/** Opens the configured store; the indicator facts are kept current with the catalogue and calendar. */
export function openStore (config: GatewayConfig, catalogue: Catalogue = Catalogue.load(config.catalogue.path), instance?: string): Store {
  const calendar = new WorkingCalendar(config.calendar)
  const facts = config.indicators.enabled ? { facts: (prev: DossierFacts | undefined, row: DossierRow, events: readonly DossierEvent[]) => updateFacts(prev, row, events, catalogue, calendar) } : {}
  if (config.store.kind === 'redis') {
    const r = config.store.redis
    return new RedisStore({
      url: r.url,
      ...(r.sentinel === undefined ? {} : { sentinel: r.sentinel }),
      ...(r.cluster === undefined ? {} : { cluster: r.cluster }),
      namespace: r.namespace,
      instance: instance ?? r.instance ?? defaultInstance(config.http.port),
      partitions: r.partitions,
      leaseMs: r.leaseMs,
      claimTimeoutMs: r.claimTimeoutMs,
      connectTimeoutMs: r.connectTimeoutMs,
      idempotencyMs: config.idempotency.retentionHours * HOUR,
      ...facts
    })
  }
  return new SqliteStore({ path: config.store.path, synchronous: config.store.synchronous, ...facts })
}

export async function startGateway (config: GatewayConfig, options: StartOptions = {}): Promise<Gateway> {
  const logger = createLogger(config.log.level, options.logStream)
  const catalogue = Catalogue.load(config.catalogue.path)
  const syncSettings = catalogueSyncSettings(config)
  // What an earlier catalogue sync learnt from DVCQG, even when the job is now off.
  if (catalogue.loadSnapshot(syncSettings?.snapshotPath ?? config.catalogueSync.snapshotPath ?? defaultSnapshotPath(config))) {
    logger.info({ procedures: catalogue.procedures.length, agencies: catalogue.agencies.length }, 'procedures learnt from DVCQG read from the snapshot')
  }
  const store = openStore(config, catalogue)
  await store.init()
  const signing = new GatewaySigning(config, store, logger)
  const adapters = new AdapterRegistry(config.destinations, {
    identity: { keyPem: signing.keyPem, certPem: signing.certPem },
    ...(config.signatures.outbound ? { signer: signing } : {})
  })
  const unrouted = catalogue.unroutedSystems(adapters.names)
  if (unrouted.length > 0) logger.warn({ systems: unrouted, catalogue: catalogue.version }, 'procedures name vertical systems that are not configured: their dossiers go only to the member destinations')
  const delivery = config.delivery.enabled ? new Delivery(store, adapters, config, logger) : undefined
  const notify = (destinations: readonly string[]): void => delivery?.notify(destinations)
  const payments = config.payments === undefined ? undefined : new Payments(store, adapters, config.payments, logger, notify)
  const statistics = config.indicators.enabled ? new Statistics(store, adapters, config, notify, logger) : undefined
  let closing = false
  const app = await buildApp(config, { store, adapters, catalogue, logger, delivery, payments, statistics, signing, closing: () => closing })
  const intake = { store, adapters, catalogue, access: config.access, notify }
  const members = new Members(config.members)
  const pollers = adapters.ofProtocol('gplx').map((a) => new GplxPoller(a as GplxAdapter, intake, members, logger))
  const taxAdapters = adapters.ofProtocol('tax') as TaxAdapter[]
  const xml = taxAdapters.length > 0 ? new XmlParserPool() : undefined
  const noticePollers = taxAdapters.map((a) => {
    const cfg = config.destinations[a.destination]
    return new TaxNoticePoller(a, cfg?.adapter === 'tax' ? cfg.notices : { intervalMs: 10_000 }, intake, members, xml!, logger)
  })
  const catalogueSync = syncSettings === undefined ? undefined : new CatalogueSync(catalogue, adapters, syncSettings, store, logger)
  signing.start()
  delivery?.start()
  catalogueSync?.start()
  payments?.start()
  statistics?.start()
  for (const p of [...pollers, ...noticePollers]) p.start()

  const purge = setInterval(() => {
    store.purgeIdempotency(Date.now() - config.idempotency.retentionHours * HOUR)
      .then((n) => { if (n > 0) logger.info({ purged: n }, 'idempotency records expired') })
      .catch((err: unknown) => logger.error({ err }, 'idempotency purge failed'))
  }, HOUR)
  purge.unref()

  let url = ''
  if (options.listen !== false) {
    url = await app.listen({ host: config.http.host, port: config.http.port })
  } else {
    await app.ready()
  }
  logger.info({ url, store: store.kind, destinations: adapters.names, delivery: delivery !== undefined }, 'gateway started')

  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true
      clearInterval(purge)
      await app.close()
      await Promise.all([...pollers, ...noticePollers].map((p) => p.stop()))
      await catalogueSync?.stop()
      await xml?.close()
      await payments?.stop()
      await statistics?.stop()
      await delivery?.stop()
      await adapters.close()
      // The last checkpoint covers everything logged, including deliveries just finished.
      await signing.close()
      await store.close()
      logger.info('gateway stopped')
    })()
    return closed
  }
  return { app, store, signing, adapters, delivery, payments, statistics, pollers, noticePollers, catalogue, catalogueSync, logger, url, close }
}

/** Closes the gateway on SIGTERM/SIGINT, then exits. */
export function closeOnSignals (gateway: Pick<Gateway, 'close' | 'logger'>, extra: () => Promise<void> = async () => {}): void {
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    gateway.logger.info({ signal }, 'shutting down')
    gateway.close().then(extra).then(() => process.exit(0), (err: unknown) => {
      gateway.logger.error({ err }, 'shutdown failed')
      process.exit(1)
    })
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
}
