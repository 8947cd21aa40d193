/** The DVCQG component: its manifest (component.ts), adapter, client and codec; the simulator is a separate entry (simulator.ts). */
export * from './adapter.js'
export { component } from './component.js'
