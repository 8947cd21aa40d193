/**
 * The onestop component's manifest: what the core reads at start-up (name, config section,
 * checks). The adapter and its producers are loaded only when a destination uses them, so
 * reading the config (every CLI command) does not load HTTP or SOAP clients.
 */
import type { OnestopDestination } from '../../schemas/types.js'
import type { Component } from '../component.js'

/** A one-stop system's webhook: what happened to its dossiers elsewhere (vertical systems, payments, tax notices) comes back to it. */
export const component: Component<OnestopDestination> = {
  name: 'onestop',
  description: 'A provincial one-stop system\'s webhook: statuses, progress, tax notices and payments produced elsewhere, one event per unit.',
  configSchema: { $ref: 'config.schema.json#/$defs/OnestopDestination' },
  consumes: ['dossier', 'progress', 'payment', 'notice'],
  produces: [],
  effects: [],
  create: async (destination, config, options) => new (await import('./adapter.js')).OnestopAdapter(destination, config, options),
  simulator: 'onestop/simulator.js'
}
