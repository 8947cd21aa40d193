/** `lgsp payments settle`, `lgsp indicators`, `lgsp reconcile`: the daily tasks on the store. */
import { AdapterRegistry } from '../../adapters/registry.js'
import type { GatewayConfig } from '../../schemas/types.js'
import { Catalogue } from '../catalogue.js'
import { catalogueSyncSettings, defaultSnapshotPath } from '../catalogue-sync.js'
import { loadConfig } from '../config.js'
import { lgspError } from '../errors.js'
import { createLogger } from '../logger.js'
import { Payments } from '../payments.js'
import { checkAgency } from '../routes/statistics.js'
import { Statistics } from '../statistics.js'
import type { Context } from './context.js'
import { withStore } from './store.js'

export async function paymentsSettle ({ file, values, out }: Context): Promise<number> {
  const config = loadConfig(file)
  if (config.payments === undefined) throw lgspError('LGSP_ERR_CONFIG_INVALID', `payments is not configured in ${file}: add a "payments" section (see docs/config.md).`)
  const paymentsCfg = config.payments
  const result = await withStore(file, async (store) => {
    // Effects are written to the outbox; the running gateway's workers deliver them.
    const adapters = await AdapterRegistry.create(config.destinations)
    const payments = new Payments(store, adapters, paymentsCfg, createLogger('warn'), () => {})
    try {
      out.progress('asking PayGov (QUERY) about the pending payments')
      const pass = await payments.settle()
      out.progress(`${pass.queried} queried, ${pass.settled} settled; reading the report for ${String(values.date)}`)
      return { pass, report: await payments.report(String(values.date)) }
    } finally {
      await payments.stop()
      await adapters.close()
    }
  })
  out.result(result)
  return 0
}

/** DVCQG's agency list as the gateway's catalogue sync last saved it (none without a snapshot). */
function learntAgencies (config: GatewayConfig): ReadonlyArray<{ MaDonVi: string }> {
  const catalogue = Catalogue.load(config.catalogue.path)
  catalogue.loadSnapshot(catalogueSyncSettings(config)?.snapshotPath ?? config.catalogueSync.snapshotPath ?? defaultSnapshotPath(config))
  return catalogue.agencies
}

async function statistics ({ file, values, out }: Context, what: 'indicators' | 'reconcile'): Promise<number> {
  const config = loadConfig(file)
  if (typeof values.agency !== 'string') throw lgspError('LGSP_ERR_INDICATORS_AGENCY')
  const agency = values.agency
  const period = String(values.period)
  const result = await withStore(file, async (store) => {
    // Repairs go into the shared outbox; the running gateway's workers deliver them.
    const adapters = await AdapterRegistry.create(config.destinations)
    const stats = new Statistics(store, adapters, config, () => {}, createLogger('warn'))
    try {
      if (what === 'indicators') {
        await checkAgency(agency, stats, { config, learnt: () => learntAgencies(config), store })
        return await stats.indicators(agency, period, values.drill === true)
      }
      out.progress(`comparing the ledger of ${agency} for ${period} with DVCQG (TraCuuHoSo)${values.repair === true ? ', repairing' : ' (dry run)'}`)
      const r = await stats.reconcile(agency, period, values.repair === true)
      out.progress('done')
      return r
    } finally {
      await adapters.close()
    }
  })
  out.result(result)
  return 0
}

export const indicators = (ctx: Context): Promise<number> => statistics(ctx, 'indicators')
export const reconcile = (ctx: Context): Promise<number> => statistics(ctx, 'reconcile')
