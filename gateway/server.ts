/**
 * Runs a gateway: checks its prerequisites, takes the store's lock, opens the store, builds
 * adapters and the app, listens, and only then starts the delivery workers and pollers.
 * Start-up is all-or-nothing: when a step fails, everything already opened is closed again
 * and one LgspError says what to fix, so no worker ever runs in a process that failed to
 * start. Shuts down gracefully (stop accepting, finish requests and deliveries in flight,
 * close the store).
 */
import type { FastifyInstance } from 'fastify'
import type { DestinationStream } from 'pino'
import { AdapterRegistry } from '../adapters/registry.js'
import type { GatewayConfig } from '../schemas/types.js'
import { buildApp } from './app.js'
import { Catalogue } from './catalogue.js'
import { CatalogueSync, catalogueSyncSettings, defaultSnapshotPath } from './catalogue-sync.js'
import { Statistics } from './statistics.js'
import { Delivery } from './delivery/index.js'
import { createLogger, type Logger } from './logger.js'
import { Payments } from './payments.js'
import { Members } from './members.js'
import { Producers } from './producers.js'
import type { Store } from './store/types.js'
import { GatewaySigning } from './crypto/signing.js'
import { LgspError, lgspError } from './errors.js'
import { openStore } from './open-store.js'
import { acquireStoreLock, preflight, type StoreLock } from './startup.js'
import { validators } from './validation.js'

export interface Gateway {
  app: FastifyInstance
  store: Store
  signing: GatewaySigning
  adapters: AdapterRegistry
  delivery: Delivery | undefined
  payments: Payments | undefined
  statistics: Statistics | undefined
  /** The components' producers (pollers), started once listening. */
  producers: Producers
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

export { openStore } from './open-store.js'

/** What a failed step was doing, for the one sentence the operator reads. */
function failed (step: string, err: unknown): LgspError {
  if (err instanceof LgspError) return err
  const e = err as NodeJS.ErrnoException
  const path = typeof e.path === 'string' ? ` (${e.path})` : ''
  return lgspError('LGSP_ERR_STARTUP_FAILED', `Start-up failed while ${step}${path}: ${e.message ?? String(err)}.`)
}

export async function startGateway (config: GatewayConfig, options: StartOptions = {}): Promise<Gateway> {
  const logger = createLogger(config.log.level, options.logStream)
  // Every missing folder, file or key at once, before anything is opened.
  preflight(config)
  // What is open so far, closed in reverse order when a later step fails.
  const opened: Array<() => Promise<void> | void> = []
  const undo = async (): Promise<void> => {
    for (const close of opened.reverse()) {
      try { await close() } catch (err) { logger.warn({ err }, 'closing after a failed start-up') }
    }
  }
  let step = 'reading the catalogue'
  try {
    const catalogue = Catalogue.load(config.catalogue.path)
    const syncSettings = catalogueSyncSettings(config)
    // What an earlier catalogue sync learnt from DVCQG, even when the job is now off.
    if (catalogue.loadSnapshot(syncSettings?.snapshotPath ?? config.catalogueSync.snapshotPath ?? defaultSnapshotPath(config))) {
      logger.info({ procedures: catalogue.procedures.length, agencies: catalogue.agencies.length }, 'procedures learnt from DVCQG read from the snapshot')
    }
    // Validators compile on first use; a gateway compiles them now, not on its first request.
    step = 'compiling the message schemas'
    for (const v of Object.values(validators)) void v
    let lock: StoreLock | undefined
    if (config.store.kind === 'sqlite' && config.store.path !== ':memory:') {
      step = `locking the store ${config.store.path}`
      lock = acquireStoreLock(config.store.path)
      const held = lock
      opened.push(() => { held.release() })
    }
    step = `opening the store ${config.store.kind === 'sqlite' ? config.store.path : config.store.redis.url}`
    const store = await openStore(config, catalogue)
    opened.push(() => store.close())
    await store.init()
    step = `reading the gateway's signing identity in ${config.pki.dir}`
    const signing = new GatewaySigning(config, store, logger)
    opened.push(() => signing.close())
    step = 'building the destination adapters'
    const adapters = await AdapterRegistry.create(config.destinations, {
      identity: { keyPem: signing.keyPem, certPem: signing.certPem },
      ...(config.signatures.outbound ? { signer: signing } : {})
    })
    opened.push(() => adapters.close())
    const unrouted = catalogue.unroutedSystems(adapters.names)
    if (unrouted.length > 0) logger.warn({ systems: unrouted, catalogue: catalogue.version }, 'procedures name vertical systems that are not configured: their dossiers go only to the member destinations')
    const delivery = config.delivery.enabled ? new Delivery(store, adapters, config, logger) : undefined
    const notify = (destinations: readonly string[]): void => delivery?.notify(destinations)
    const payments = config.payments === undefined ? undefined : new Payments(store, adapters, config.payments, logger, notify)
    const statistics = config.indicators.enabled ? new Statistics(store, adapters, config, notify, logger) : undefined
    let closing = false
    step = 'building the HTTP server'
    const app = await buildApp(config, { store, adapters, catalogue, logger, delivery, payments, statistics, signing, closing: () => closing })
    opened.push(() => app.close())
    const intake = { store, adapters, catalogue, access: config.access, notify }
    const members = new Members(config.members)
    const producers = await Producers.create(config, adapters, intake, members, logger)
    opened.push(() => producers.stop())
    const catalogueSync = syncSettings === undefined ? undefined : new CatalogueSync(catalogue, adapters, syncSettings, store, logger)

    // app.close() stops everything: the app's hooks close what the gateway runs, so a caller
    // holding only the FastifyInstance (or a plugin closing it) leaves nothing running. Until
    // the start-up completes, `undo` above closes what is open instead.
    let started = false
    let purge: NodeJS.Timeout | undefined
    app.addHook('preClose', async () => { closing = true })
    app.addHook('onClose', async () => {
      if (!started) return
      clearInterval(purge)
      await producers.stop()
      await catalogueSync?.stop()
      await payments?.stop()
      await statistics?.stop()
      await delivery?.stop()
      await adapters.close()
      // The last checkpoint covers everything logged, including deliveries just finished.
      await signing.close()
      await store.close()
      lock?.release()
      logger.info('gateway stopped')
    })

    let url = ''
    if (options.listen !== false) {
      const { host, port } = config.http
      try {
        url = await app.listen({ host, port })
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'EADDRINUSE') throw lgspError('LGSP_ERR_STARTUP_PORT', `Port ${port} on ${host} is already in use: stop the process holding it, or set http.port (LGSP_HTTP_PORT) to a free port.`)
        if (code === 'EACCES') throw lgspError('LGSP_ERR_STARTUP_PORT', `Port ${port} on ${host} needs privileges this user does not have: use a port above 1023 (http.port, LGSP_HTTP_PORT) behind a proxy.`)
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw lgspError('LGSP_ERR_STARTUP_PORT', `${host} is not an address of this machine: set http.host (LGSP_HTTP_HOST), e.g. 0.0.0.0 or 127.0.0.1.`)
        throw err
      }
    } else {
      await app.ready()
    }

    // Listening: from here on the workers run, and nothing below can fail the start-up.
    signing.start()
    delivery?.start()
    catalogueSync?.start()
    payments?.start()
    statistics?.start()
    producers.start()

    purge = setInterval(() => {
      store.purgeIdempotency(Date.now() - config.idempotency.retentionHours * HOUR)
        .then((n) => { if (n > 0) logger.info({ purged: n }, 'idempotency records expired') })
        .catch((err: unknown) => logger.error({ err }, 'idempotency purge failed'))
    }, HOUR)
    purge.unref()
    started = true
    logger.info({ url, store: store.kind, destinations: adapters.names, delivery: delivery !== undefined, lock: lock?.path }, 'gateway started')

    // Stop accepting, finish the requests in flight, then the onClose hook above.
    let closed: Promise<void> | undefined
    const close = (): Promise<void> => {
      closed ??= app.close()
      return closed
    }
    return { app, store, signing, adapters, delivery, payments, statistics, producers, catalogue, catalogueSync, logger, url, close }
  } catch (err) {
    await undo()
    throw failed(step, err)
  }
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
