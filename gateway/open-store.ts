/**
 * Opens the configured store. Kept apart from server.ts so that the `lgsp` operator
 * commands open the store without loading the HTTP server.
 */
import type { GatewayConfig } from '../schemas/types.js'
import { Catalogue } from './catalogue.js'
import { WorkingCalendar } from './ledger/dates.js'
import { updateFacts, type DossierFacts } from './ledger/indicators.js'
import type { DossierEvent, DossierRow } from './ledger/plan.js'
import type { Store } from './store/types.js'

const HOUR = 3600_000

/**
 * Opens the configured store; the indicator facts are kept current with the catalogue and
 * calendar. The store's module is imported here, on use: the Redis client alone takes
 * longer to load than a whole `lgsp queues` on SQLite.
 */
export async function openStore (config: GatewayConfig, catalogue: Catalogue = Catalogue.load(config.catalogue.path), instance?: string): Promise<Store> {
  const calendar = new WorkingCalendar(config.calendar)
  const facts = config.indicators.enabled ? { facts: (prev: DossierFacts | undefined, row: DossierRow, events: readonly DossierEvent[]) => updateFacts(prev, row, events, catalogue, calendar) } : {}
  if (config.store.kind === 'redis') {
    const { defaultInstance, RedisStore } = await import('./store/redis/index.js')
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
  const { SqliteStore } = await import('./store/sqlite.js')
  return new SqliteStore({ path: config.store.path, synchronous: config.store.synchronous, ...facts })
}
