/**
 * The tax component's manifest: what the core reads at start-up (name, config section,
 * checks). The adapter and its producers are loaded only when a destination uses them, so
 * reading the config (every CLI command) does not load HTTP or SOAP clients.
 */
import type { TaxDestination } from '../../schemas/types.js'
import { checkProducerMember, type Component } from '../component.js'
import type { TaxAdapter } from './adapter.js'
import { TAX_NOTICE } from './codec.js'

/**
 * The tax service (SOAP, WS-Security): dossiers whose procedure names `tax` are submitted
 * (NopHoSo); notices come back pushed by DVCQG or polled (LayThongBaoThue). Its signing
 * identity: the destination's own PEM files, else the gateway's, else (dev profile only,
 * checked by config; tests) a throwaway one.
 */
export const component: Component<TaxDestination> = {
  name: 'tax',
  description: 'The tax service (SOAP with WS-Security): dossiers of procedures that name it are submitted; its notices come back as status 6 with the amounts.',
  configSchema: { $ref: 'config.schema.json#/$defs/TaxDestination' },
  consumes: ['dossier'],
  produces: [TAX_NOTICE],
  effects: [],
  async create (destination, config, options) {
    const [{ readFileSync }, { devSigningIdentity }, { TaxAdapter }] = await Promise.all([import('node:fs'), import('../../certs/dev-identity.js'), import('./adapter.js')])
    const identity = config.signing !== undefined
      ? { keyPem: readFileSync(config.signing.keyPath, 'utf8'), certPem: readFileSync(config.signing.certPath, 'utf8') }
      : options.identity ?? devSigningIdentity(`lgsp-${destination}`)
    return new TaxAdapter(destination, { url: config.url, ...identity, timeoutMs: config.timeouts.headersMs, signature: config.signature }, config.notices.member, options)
  },
  checkConfig: (destination, config, gateway) => [
    ...(gateway.profile === 'production' && config.signing === undefined ? [`destinations.${destination}.signing: required in production (keyPath and certPath of the WS-Security identity)`] : []),
    ...checkProducerMember(`destinations.${destination}.notices.member`, config.notices.member, ['progress'], 'to bring tax notices in', gateway)
  ],
  routes: async (app, destinations, context) => { await (await import('./routes.js')).taxPushRoutes(app, destinations, context) },
  producers: async (adapter, config, context) => [new (await import('./poller.js')).TaxNoticePoller(adapter as TaxAdapter, config.notices, context)],
  simulator: 'tax/simulator.js'
}
