/**
 * The contract between the gateway's core and one outside system. Each system (DVCQG, the
 * one-stop callback, GPLX, tax, …) is one folder that exports one `Component`; the core
 * (routing, queues, retries, the ledger, the store) only ever sees this shape, so adding a
 * system is a new folder plus one line in adapters/registry.ts, never an edit of the core.
 *
 * A component says:
 * - its name: the `adapter` value of a `destinations.<name>` section in the config;
 * - its config section as a JSON Schema (validated at start, listed in docs/config.md);
 * - what it consumes: the canonical message kinds its adapter cuts into delivery units;
 * - what it produces: the message kinds its producers (pollers) bring in;
 * - the effects of a delivery (adapters/types.ts DeliveryEffect), which the store commits
 *   with the unit's completion;
 * - its producers, started after the gateway listens and stopped before it closes;
 * - its simulator, a separate module only the demo and the tests load.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { LgspError, type ErrorCode } from '../gateway/errors.js'
import type { Logger } from '../gateway/logger.js'
import type { DossierState } from '../gateway/ledger/state-machine.js'
import type { HoSo, Member } from '../schemas/types.js'
import type { XmlParserPool } from './xml/index.js'
import type { Adapter, AdapterOptions, DeliveryEffect, Notice } from './types.js'

/** Options the registry hands every component's adapter. */
export interface RegistryOptions extends AdapterOptions {
  /** The gateway's signing key and certificate (PEM) for XML signatures. */
  identity?: { keyPem: string, certPem: string }
}

/** A config section as the component's schema validated it (with its defaults filled in). */
export interface ComponentConfig {
  adapter: string
  [key: string]: unknown
}

/** What a producer reads of a dossier in the ledger. */
export interface LedgerRow {
  maHoSo: string
  state: DossierState
  /** Bumped by every change: an idempotency key that names it applies once per version. */
  version: number
  /** The latest HoSo record. */
  record: HoSo
}

/** What the gateway's intake returns to a producer for an accepted message. */
export interface Accepted {
  messageId: string
  replayed: boolean
}

/**
 * What a producer may do in the gateway: accept messages through the same intake as a member
 * (its message kinds, its access rights, its destinations, idempotency), read and keep its
 * resume point, read the ledger, and schedule its rounds.
 */
export interface ProducerContext {
  readonly log: Logger
  /** The member a component's messages are accepted under (config names it), if configured. */
  member (id: string): Member | undefined
  /** Accepts HoSo records as `member` (like POST /v1/dossiers). */
  acceptDossiers (member: Member, records: unknown, idempotencyKey: string): Promise<Accepted>
  /**
   * Accepts progress entries of one dossier as `member` (like POST /v1/dossiers/{MaHoSo}/progress);
   * `raw` is what the message log keeps (the entries as JSON when absent).
   */
  acceptProgress (member: Member, maHoSo: string, entries: unknown, idempotencyKey: string, raw?: string): Promise<Accepted>
  /** Accepts a notice of one of the component's own kinds (a status with fee lines) as `member`. */
  acceptNotice (member: Member, notice: Notice): Promise<Accepted>
  /** Current ledger rows of these dossiers. */
  dossierRows (maHoSo: readonly string[]): Promise<LedgerRow[]>
  /** Dossiers delivered to `destination` with `op` that have no event of `kind` yet. */
  awaitingEvent (destination: string, op: string, kind: string, limit: number): Promise<string[]>
  getCursor (key: string): Promise<string | undefined>
  setCursor (key: string, value: string): Promise<void>
  /**
   * Runs `run` every `intervalMs` (never two rounds at once; on a shared store, on one
   * instance at a time under the lease `name`); the console shows its last run.
   */
  schedule (name: string, intervalMs: number, run: () => Promise<unknown>, log: Logger): Schedule
  /** The hardened XML parser (a worker pool for large documents), shared by the components. */
  xml (): XmlParserPool
}

/** Helpers for a route's OpenAPI schema (`schema` in the route options), so a component's routes are documented like the core's. */
export interface RouteDocs {
  /** Problem responses grouped by HTTP status, each listing the codes the route can answer. */
  problems (codes: readonly ErrorCode[]): Record<string, unknown>
  /** A JSON response. */
  json (schema: unknown, description: string): Record<string, unknown>
  /** Codes any request can meet (malformed or oversized body, server failing or closing). */
  readonly base: readonly ErrorCode[]
  /** Codes of bearer authentication (tokens, members that must sign). */
  readonly auth: readonly ErrorCode[]
}

/**
 * What a component's own HTTP routes may do (the tax service's notices pushed by DVCQG, …):
 * everything a producer may, plus authenticating the caller as a member.
 */
export interface RouteContext extends ProducerContext {
  /** The member of a request with a bearer token (its detached signature checked when it must sign); a problem otherwise. */
  bearerMember (req: FastifyRequest, reply: FastifyReply): Promise<Member>
  /**
   * The member among `ids` whose client secret is `secret` (a key in the body, as DVCQG's
   * pushers send), its signature checked when it must sign; undefined when none matches. A
   * disabled member is a problem, never a fall-through to the next.
   */
  secretMember (req: FastifyRequest, ids: readonly string[], secret: string): Promise<Member | undefined>
  readonly docs: RouteDocs
}

/** A scheduled job a producer owns. */
export interface Schedule {
  start (): void
  stop (): Promise<void>
}

/** Something that brings messages in (a poller): started after the gateway listens, stopped before it closes. */
export interface Producer {
  readonly destination: string
  start (): void
  stop (): Promise<void>
}

/** What a component's config check may look at besides its own section. */
export interface GatewaySettings {
  profile: string
  members: ReadonlyArray<Pick<Member, 'id' | 'messageKinds'>>
}

/** The member a component's producer speaks as: a sentence for the config check when it cannot. */
export function checkProducerMember (key: string, id: string, kinds: readonly string[], why: string, gateway: GatewaySettings): string[] {
  const m = gateway.members.find((x) => x.id === id)
  if (m === undefined) return [`${key}: "${id}" is not a member`]
  if (kinds.some((k) => !(m.messageKinds as readonly string[]).includes(k))) return [`${key}: "${m.id}" needs messageKind${kinds.length > 1 ? 's' : ''} ${kinds.map((k) => `"${k}"`).join(' and ')} ${why}`]
  return []
}

/** One outside system. */
export interface Component<Config extends { adapter: string } = ComponentConfig> {
  /** The `adapter` value that selects this component in a destination's config. */
  readonly name: string
  /** One sentence for the config reference. */
  readonly description: string
  /**
   * The JSON Schema of its `destinations.<name>` section. A built-in component's schema is a
   * `$ref` into schemas/config.schema.json (validated with the whole file, typed by
   * schemas/types.ts); any other component's schema is self-contained and validated at start.
   */
  readonly configSchema: Record<string, unknown>
  /** Canonical message kinds its adapter cuts into units (`Adapter.units`). */
  readonly consumes: readonly string[]
  /** Message kinds its producers bring in. */
  readonly produces: readonly string[]
  /**
   * What its adapter offers the core besides delivery: `catalogue`, the national procedure
   * catalogue (Adapter.catalogue), read by the catalogue-sync job.
   */
  readonly capabilities?: ReadonlyArray<'catalogue'>
  /** Effects its deliveries may return, committed with the completion. */
  readonly effects: ReadonlyArray<DeliveryEffect['kind']>
  /** Builds the destination's adapter (loading its modules only now). */
  create (destination: string, config: Config, options: RegistryOptions): Promise<Adapter>
  /** What the schema cannot check (cross references to members), as sentences naming the key. */
  checkConfig? (destination: string, config: Config, gateway: GatewaySettings): string[]
  /** Its producers for one destination (none when absent). */
  producers? (adapter: Adapter, config: Config, context: ProducerContext): Promise<Producer[]>
  /**
   * Its own HTTP routes (pushes from the system, …), registered once when some destination
   * uses the component, with every such destination's section.
   */
  routes? (app: FastifyInstance, destinations: ReadonlyArray<{ name: string, config: Config }>, context: RouteContext): Promise<void>
  /** The module of its simulator, relative to adapters/ (the demo and the tests load it; the gateway never does). */
  readonly simulator?: string
}

/**
 * Runs one accept for a producer; a refusal on the message's own merits (4xx) is logged and
 * skipped (false), anything else (store or server trouble) propagates and ends the round.
 */
export async function refusable (log: Logger, fields: Record<string, unknown>, accept: () => Promise<unknown>): Promise<boolean> {
  try {
    await accept()
    return true
  } catch (err) {
    if (!(err instanceof LgspError) || err.status >= 500) throw err
    log.warn({ ...fields, code: err.code }, 'change from a vertical system refused')
    return false
  }
}
