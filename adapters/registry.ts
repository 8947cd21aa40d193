/**
 * The components (one per outside system) and the adapters built from the config's
 * `destinations`. Outside code reaches adapters only through this file and each
 * component's index.ts; the core never names a system.
 */
import type { GatewayConfig } from '../schemas/types.js'
import type { ComponentConfig, RegistryOptions } from './component.js'
import { componentOf, type Component } from './components.js'
import type { Adapter } from './types.js'

export type { Adapter, AdapterOptions, CatalogueAgency, CatalogueProcedure, CatalogueSource, OutboundMeta, OutboundSigner, SignContext, CanonicalMessage, DeliveryEffect, DeliveryResult, DeliveryUnit, Notice, NoticeFee, PaymentNotice, UnitPlan } from './types.js'
export type { Accepted, Component, ComponentConfig, GatewaySettings, Producer, ProducerContext, RegistryOptions, RouteContext, RouteDocs, Schedule } from './component.js'
export { allComponents, componentOf, isBuiltIn, registerComponent } from './components.js'
export { outboundTrace, traceIdOf, traceparentFor, type OutboundTrace } from './http.js'

/** Adapters for every configured destination. */
export class AdapterRegistry {
  readonly #adapters = new Map<string, Adapter>()
  readonly #components = new Map<string, Component>()

  private constructor () {}

  /** Builds each destination's adapter with its component (which loads its modules then). */
  static async create (destinations: GatewayConfig['destinations'], options: RegistryOptions = {}): Promise<AdapterRegistry> {
    const registry = new AdapterRegistry()
    for (const [name, cfg] of Object.entries(destinations)) {
      if (cfg === undefined) continue
      const component = componentOf(cfg.adapter)
      // Config validation refuses unknown adapters before this point.
      if (component === undefined) throw new TypeError(`destinations.${name}: no component is named ${cfg.adapter}`)
      registry.#adapters.set(name, await component.create(name, cfg as unknown as ComponentConfig, options))
      registry.#components.set(name, component)
    }
    return registry
  }

  get (destination: string): Adapter | undefined {
    return this.#adapters.get(destination)
  }

  /** The component behind a destination. */
  componentOf (destination: string): Component | undefined {
    return this.#components.get(destination)
  }

  /** Adapters of one protocol (e.g. the `dvcqg` destination a reconciliation reads). */
  ofProtocol (protocol: string): Adapter[] {
    return [...this.#adapters.values()].filter((a) => a.protocol === protocol)
  }

  get names (): string[] {
    return [...this.#adapters.keys()]
  }

  async close (): Promise<void> {
    await Promise.all([...this.#adapters.values()].map((a) => a.close()))
  }
}
