/**
 * The GPLX component's manifest: what the core reads at start-up (name, config section,
 * checks). The adapter and its producers are loaded only when a destination uses them, so
 * reading the config (every CLI command) does not load HTTP or SOAP clients.
 */
import type { GplxDestination } from '../../schemas/types.js'
import { checkProducerMember, type Component } from '../component.js'
import type { GplxAdapter } from './adapter.js'

/** The Ministry of Transport's driver-licence service (GPLX): read-only, polled for the dossiers it received and their status. */
export const component: Component<GplxDestination> = {
  name: 'gplx',
  description: 'The driver-licence service (GPLX) of the Ministry of Transport: read-only; polled (DanhSachHoSo, TraCuuHoSo) for its dossiers and status changes.',
  configSchema: { $ref: 'config.schema.json#/$defs/GplxDestination' },
  consumes: [],
  produces: ['dossier', 'progress'],
  effects: [],
  create: async (destination, config, options) => new (await import('./adapter.js')).GplxAdapter(destination, config, options),
  checkConfig: (destination, config, gateway) =>
    checkProducerMember(`destinations.${destination}.poll.member`, config.poll.member, ['dossier', 'progress'], 'to bring the ministry\'s dossiers and changes in', gateway),
  producers: async (adapter, _config, context) => [new (await import('./poller.js')).GplxPoller(adapter as GplxAdapter, context)],
  simulator: 'gplx/simulator.js'
}
