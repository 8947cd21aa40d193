/**
 * The catalogue-sync job: on a schedule, reads the procedure list of the destination that
 * publishes the national catalogue (a component with the `catalogue` capability: DVCQG's
 * LayDanhSachTTHC), asks for the procedures not yet described in detail (field, fees,
 * statutory duration; LayThuTuc), reads the agency list (LayDanhMucCoQuan), feeds all of it to the procedure
 * catalogue and writes the snapshot beside the store, so a restart remembers it. On a shared
 * store one instance runs it (job lease `catalogue-sync`); the others re-read the snapshot
 * when it changed (when they share its folder).
 */
import { dirname, join } from 'node:path'
import { allComponents, componentOf, type AdapterRegistry, type CatalogueSource } from '../adapters/registry.js'
import type { GatewayConfig } from '../schemas/types.js'
import type { Catalogue, LearntProcedure } from './catalogue.js'
import { lgspError } from './errors.js'
import type { Logger } from './logger.js'
import { Periodic } from './periodic.js'
import type { Store } from './store/types.js'

/** The job's settings, resolved from `catalogueSync` in the config. */
export interface CatalogueSyncSettings {
  /** The destination read from (its component publishes the catalogue). */
  destination: string
  intervalMs: number
  /** LayThuTuc calls per pass at most. */
  details: number
  snapshotPath: string
}

/** What one pass did. */
export interface CatalogueSyncReport {
  listed: number
  detailed: number
  agencies: number
  /** Procedures whose data changed. */
  changed: number
  /** Procedures the catalogue serves after the pass. */
  served: number
}

/** Where the snapshot goes by default: beside the SQLite file (the data folder). */
// The file name predates the catalogue capability; kept so an upgraded gateway finds its snapshot.
export const defaultSnapshotPath = (config: GatewayConfig): string => join(dirname(config.store.path), 'catalogue-dvcqg.json')

/**
 * The job's settings from the config, undefined when it is off. Off by default: a province
 * turns it on once its DVCQG account may call the catalogue services (the demo turns it
 * on); the test stacks keep their DVCQG call counts free of it.
 */
export function catalogueSyncSettings (config: GatewayConfig): CatalogueSyncSettings | undefined {
  const c = config.catalogueSync
  if (!c.enabled) return undefined
  const publishes = (name: string): boolean => componentOf(config.destinations[name]?.adapter ?? '')?.capabilities?.includes('catalogue') === true
  const candidates = Object.keys(config.destinations).filter(publishes)
  const destination = c.destination ?? candidates[0]
  if (destination === undefined || !publishes(destination)) {
    const adapters = allComponents().filter((x) => x.capabilities?.includes('catalogue') === true).map((x) => `adapter ${x.name}`).join(', ')
    const which = candidates.map((n) => `${n} (adapter ${config.destinations[n]!.adapter})`).join(', ') || `none configured; components that do: ${adapters}`
    throw lgspError('LGSP_ERR_CONFIG_INVALID', `catalogueSync.destination: "${destination ?? ''}" is not a destination that publishes the procedure catalogue (${which}); name one or set catalogueSync.enabled to false.`)
  }
  return { destination, intervalMs: c.intervalMs, details: c.details, snapshotPath: c.snapshotPath ?? defaultSnapshotPath(config) }
}

/** The catalogue-sync job (see the file comment). */
export class CatalogueSync {
  readonly settings: CatalogueSyncSettings
  readonly #catalogue: Catalogue
  readonly #source: CatalogueSource
  readonly #store: Pick<Store, 'lease'>
  readonly #log: Logger
  readonly #schedule: Periodic
  #first: Promise<unknown> | undefined
  /** The last pass's report (for operators and tests). */
  last: CatalogueSyncReport | undefined

  constructor (catalogue: Catalogue, adapters: AdapterRegistry, settings: CatalogueSyncSettings, store: Pick<Store, 'lease'>, log: Logger) {
    const source = adapters.get(settings.destination)?.catalogue
    if (source === undefined) throw lgspError('LGSP_ERR_CONFIG_INVALID', `catalogueSync.destination: "${settings.destination}" does not publish the procedure catalogue.`)
    this.settings = settings
    this.#catalogue = catalogue
    this.#source = source
    this.#store = store
    this.#log = log.child({ job: 'catalogue-sync', destination: settings.destination })
    this.#schedule = new Periodic('catalogue sync', settings.intervalMs, () => this.#tick(), this.#log)
  }

  /** Runs a first pass now (in the background), then every intervalMs. */
  start (): void {
    this.#first ??= this.#tick().catch((err: unknown) => this.#log.error({ err }, 'catalogue sync failed'))
    this.#schedule.start()
  }

  async stop (): Promise<void> {
    await this.#schedule.stop()
    await this.#first
  }

  /** The instance holding the lease syncs; the others pick up its snapshot. */
  async #tick (): Promise<void> {
    const lease = this.#store.lease?.bind(this.#store)
    if (lease === undefined || await lease('catalogue-sync', Math.max(3 * this.settings.intervalMs, 30_000))) {
      await this.syncOnce()
    } else if (this.#catalogue.loadSnapshot(this.settings.snapshotPath)) {
      this.#log.info({ served: this.#catalogue.procedures.length }, 'catalogue snapshot re-read')
    }
  }

  /** One pass, whoever holds the lease; undefined when the catalogue could not be read (logged, tried again next pass). */
  async syncOnce (): Promise<CatalogueSyncReport | undefined> {
    const list = await this.#source.listProcedures()
    if (!list.ok) {
      this.#log.warn({ code: list.code, reason: list.message }, 'catalogue procedure list not read')
      return undefined
    }
    let changed = this.#catalogue.learn(list.procedures)
    const learnt = new Map(this.#catalogue.learnt.map((p) => [p.MaTTHC, p]))
    const undescribed = list.procedures.filter((p) => learnt.get(p.MaTTHC)?.detailedAt === undefined).slice(0, this.settings.details)
    let detailed = 0
    for (const p of undescribed) {
      const detail = await this.#source.procedure(p.MaTTHC)
      if (!detail.ok) {
        this.#log.warn({ code: detail.code, reason: detail.message, maTTHC: p.MaTTHC }, 'catalogue procedure detail not read; the rest waits for the next pass')
        break
      }
      const found: LearntProcedure = { ...(detail.procedure ?? p), MaTTHC: p.MaTTHC, detailedAt: Date.now() }
      changed += this.#catalogue.learn([found])
      detailed++
    }
    const agencies = await this.#source.listAgencies()
    if (agencies.ok) this.#catalogue.learnAgencies(agencies.agencies)
    else this.#log.warn({ code: agencies.code, reason: agencies.message }, 'catalogue agency list not read')
    this.#catalogue.saveSnapshot(this.settings.snapshotPath)
    this.last = { listed: list.procedures.length, detailed, agencies: this.#catalogue.agencies.length, changed, served: this.#catalogue.procedures.length }
    this.#log.info(this.last, 'catalogue synced')
    return this.last
  }
}
