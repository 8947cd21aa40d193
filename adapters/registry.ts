/**
 * The adapters by destination name, built from the config's `destinations`. Outside code
 * reaches adapters only through this file and each adapter's index.ts.
 */
import type { Destination, GatewayConfig, TaxDestination } from '../schemas/types.js'
import { DvcqgAdapter } from './dvcqg/index.js'
import { GplxAdapter } from './gplx/index.js'
import { OnestopAdapter } from './onestop/index.js'
import { TaxAdapter } from './tax/index.js'
import { readFileSync } from 'node:fs'
import { devSigningIdentity } from '../certs/dev-identity.js'
import type { Adapter, AdapterOptions } from './types.js'

export type { Adapter, AdapterOptions, OutboundMeta, OutboundSigner, SignContext, CanonicalMessage, DeliveryResult, DeliveryUnit, PaymentNotice, UnitPlan } from './types.js'
export { outboundTrace, traceIdOf, traceparentFor, type OutboundTrace } from './http.js'

/**
 * The tax adapter's signing identity: the destination's own PEM files, else the gateway's
 * identity, else (dev profile only, checked by config; tests) a throwaway one.
 */
function taxAdapter (name: string, cfg: TaxDestination, options: RegistryOptions): TaxAdapter {
  const identity = cfg.signing !== undefined
    ? { keyPem: readFileSync(cfg.signing.keyPath, 'utf8'), certPem: readFileSync(cfg.signing.certPath, 'utf8') }
    : options.identity ?? devSigningIdentity(`lgsp-${name}`)
  return new TaxAdapter(name, { url: cfg.url, ...identity, timeoutMs: cfg.timeouts.headersMs, signature: cfg.signature }, cfg.notices.member, options)
}

function build (name: string, cfg: Destination, options: RegistryOptions): Adapter {
  switch (cfg.adapter) {
    case 'dvcqg': return new DvcqgAdapter(name, cfg, options)
    case 'onestop': return new OnestopAdapter(name, cfg, options)
    case 'gplx': return new GplxAdapter(name, cfg, options)
    case 'tax': return taxAdapter(name, cfg, options)
  }
}

export interface RegistryOptions extends AdapterOptions {
  /** The gateway's signing key and certificate (PEM) for XML signatures. */
  identity?: { keyPem: string, certPem: string }
}

/** Adapters for every configured destination. */
export class AdapterRegistry {
  readonly #adapters = new Map<string, Adapter>()

  constructor (destinations: GatewayConfig['destinations'], options: RegistryOptions = {}) {
    for (const [name, cfg] of Object.entries(destinations)) {
      if (cfg !== undefined) this.#adapters.set(name, build(name, cfg, options))
    }
  }

  /** Registers an adapter by hand (tests; adapters added by later issues). */
  add (adapter: Adapter): void {
    this.#adapters.set(adapter.destination, adapter)
  }

  get (destination: string): Adapter | undefined {
    return this.#adapters.get(destination)
  }

  /** Adapters of one protocol (e.g. every `gplx` destination, for its poller). */
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
