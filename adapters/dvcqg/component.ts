/**
 * The DVCQG component's manifest: what the core reads at start-up (name, config section,
 * checks). The adapter and its producers are loaded only when a destination uses them, so
 * reading the config (every CLI command) does not load HTTP or SOAP clients.
 */
import type { DvcqgDestination } from '../../schemas/types.js'
import type { Component } from '../component.js'

/** DVCQG, the national public service portal: dossiers (DongBoHoSoMC), progress (CapNhatTienDoHoSoMC) and statuses (DongBoTrangThaiHoSo). */
export const component: Component<DvcqgDestination> = {
  name: 'dvcqg',
  description: 'The national public service portal (DVCQG): receives every dossier, its progress and its status; serves the procedure catalogue.',
  configSchema: { $ref: 'config.schema.json#/$defs/DvcqgDestination' },
  consumes: ['dossier', 'progress', 'payment', 'notice'],
  produces: [],
  capabilities: ['catalogue'],
  effects: ['dossier-synced'],
  create: async (destination, config, options) => new (await import('./adapter.js')).DvcqgAdapter(destination, config, options),
  simulator: 'dvcqg/simulator.js'
}
