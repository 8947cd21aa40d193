/**
 * The store contract, implemented twice: the embedded SQLite store (one process) and the
 * Redis store (several instances); tests/store/contract.ts runs against both.
 */
import type { DeliveryEffect, DeliveryUnit } from '../../adapters/registry.js'
import type { DeliveryErrorCode } from '../errors.js'
import type { DossierEvent, DossierRow, ItemOutcome, LedgerChange } from '../ledger/plan.js'
import type { Warning, WarningCode } from '../warnings.js'
import type { DossierState } from '../ledger/state-machine.js'
import type { DossierFacts, IndicatorCounts, RuleProfile } from '../ledger/indicators.js'
import type { PaymentStore } from './payments/types.js'
import type { MessageLogStore } from './message-log/types.js'
import type { IdempotencyStore } from './idempotency/types.js'
import type { DeadLetterStore, DeliveryAttempt } from './dead-letters/types.js'
import type { JobStore } from './jobs/types.js'

// The ports split out so far, re-exported: callers keep importing the store's types from here.
export type * from './payments/types.js'
export type * from './message-log/types.js'
export type * from './idempotency/types.js'
export type * from './dead-letters/types.js'
export type * from './jobs/types.js'

/** dossier, progress, payment: the core's; any other is a component's own (its `produces`, e.g. tax-notice). */
export type MessageKind = 'dossier' | 'progress' | 'payment' | (string & {})

/** One delivery unit for one destination, cut by the destination's adapter at accept time. */
export interface OutboxInsert {
  destination: string
  maHoSo: string
  /** Adapter operation, e.g. `dossier` or `progress`. */
  op: string
  /** What the adapter needs to deliver the unit (JSON-serialisable). */
  payload: unknown
}

/** The reply stored with an idempotency key, returned as-is to repeats. */
export interface AcceptReply {
  messageId: string
  receivedAt: string
  destinations: string[]
  /** What intake normalised or decided on the sender's behalf (gateway/warnings.ts), at most MAX_REPLY_WARNINGS. */
  warnings?: Warning[]
  /** Every warning, counted by code. */
  warningCounts?: Partial<Record<WarningCode, number>>
  /** Per record or progress entry (index as sent): applied, kept as history, or refused alone. */
  outcomes?: Array<ItemOutcome & { index: number, MaHoSo: string }>
}

/** Everything one accept writes, atomically. */
export interface AcceptInput {
  messageId: string
  receivedAt: number
  sender: string
  kind: MessageKind
  /** Sender-scoped key: the Idempotency-Key header or a hash of sender, MaHoSo and content. */
  idempotencyKey: string
  /** SHA-256 (hex) of the body, as the message log records it: a reused key with another body is refused. */
  contentHash: string
  /**
   * What a repeat of the key must match instead of contentHash: for messages the gateway makes
   * itself (a payment's effect, a repair), whose body may be rebuilt differently by a repeat.
   */
  idempotencyHash?: string
  /** The raw body, for the message log; null when the member's bodies are kept as digests only. */
  body: string | null
  /** The member's detached JWS over the body, when the request was signed (kept in the message log). */
  signature?: string | null
  /** The trace id of the request's W3C traceparent, kept with the outbox units for their deliveries. */
  traceId?: string
  /** Dossiers the message touches; their current rows are handed to `plan`. */
  maHoSo: string[]
  reply: AcceptReply
  /**
   * Decides the ledger change and the outbox rows from the current rows; may throw an
   * LgspError, in which case nothing is written. Called inside the store's atomic section.
   * What it returns in `reply` is merged into the reply stored with the key (per-item outcomes
   * and warnings that depend on the dossier's state), so a repeat gets the same answer.
   */
  plan: (current: ReadonlyMap<string, DossierRow>) => { change: LedgerChange, outbox: OutboxInsert[], reply?: Partial<AcceptReply> }
}

export type AcceptResult =
  | { replayed: false, reply: AcceptReply }
  | { replayed: true, reply: AcceptReply }

/** An outbox unit claimed for delivery: the adapter's unit, plus where it goes. */
export interface OutboxItem extends DeliveryUnit {
  destination: string
  createdAt: number
  /** The trace id of the request that brought the message, when it carried a traceparent. */
  traceId?: string
}

/**
 * What happened to a claimed unit, and what the delivery made true (`effects`), written in the
 * same atomic step: a completion that is not applied (the unit was reclaimed by another
 * consumer) applies none of its effects either.
 */
export type Completion = (
  | { id: number, outcome: 'delivered', note?: string }
  | { id: number, outcome: 'retry', nextAt: number, code: DeliveryErrorCode, error: string, uncertain: boolean }
  | { id: number, outcome: 'dead', code: DeliveryErrorCode, error: string }
) & {
  /** What the delivery made true (adapters/types.ts DeliveryEffect), applied only with the completion. */
  effects?: readonly DeliveryEffect[]
  /**
   * The attempt, kept with the unit in the same write (its last ATTEMPTS_KEPT): a failure
   * always, a success only after failures (the happy path writes nothing more).
   */
  attempt?: AttemptNote
}

/** An attempt as the worker hands it over (its outcome is the completion's). */
export type AttemptNote = Omit<DeliveryAttempt, 'outcome'>

export type UnitState = 'pending' | 'inflight' | 'retrying' | 'dead' | 'blocked' | 'delivered' | 'discarded'

/** One delivery unit as GET /v1/dossiers/{MaHoSo} shows it. */
export interface UnitView {
  id: number
  messageId: string
  op: string
  state: UnitState
  attempts: number
  lastErrorCode: string | null
  lastError: string | null
  nextAttemptAt: string | null
  deliveredAt: string | null
}

/** The gateway's view of a dossier. */
export interface DossierView {
  row: DossierRow
  history: DossierEvent[]
  deliveries: Record<string, UnitView[]>
}

/** Updates a dossier's indicator facts from its new row and the message's events (pure; run inside the accept). */
export type FactsDeriver = (prev: DossierFacts | undefined, row: DossierRow, events: readonly DossierEvent[]) => DossierFacts

/** Which agencies a query covers: a list of codes, or every code ending in a suffix (a whole province). */
export type AgencyScope = { codes: string[] } | { suffix: string }

/** A closed period's numbered revision. */
export interface IndicatorRevision {
  agency: string
  period: string
  revision: number
  createdAt: number
  report: unknown
  changes: unknown
}

/** Indicator state: per-dossier facts and closed periods. */
export interface IndicatorStore {
  /** Facts of the dossiers that may count for [from, to): received before `to` and not ended before `from`. */
  factsFor (scope: AgencyScope, from: number, to: number): Promise<DossierFacts[]>
  /**
   * countIndicators' counts over factsFor (under `profile`, the national reading by default),
   * reading only the counted fields: the store keeps facts, the rules live in ledger/indicators.ts.
   */
  countFacts (scope: AgencyScope, from: number, to: number, profile?: RuleProfile): Promise<IndicatorCounts>
  /** Marks dossiers as held by DVCQG (dossier sync). */
  markSynced (maHoSo: readonly string[]): Promise<void>
  latestRevision (agency: string, period: string): Promise<IndicatorRevision | undefined>
  /** Every revision of a closed period, oldest first (empty while it is open). */
  revisions (agency: string, period: string): Promise<IndicatorRevision[]>
  saveRevision (r: Omit<IndicatorRevision, 'revision'>): Promise<IndicatorRevision>
  /** Current ledger rows of these dossiers. */
  dossierRows (maHoSo: readonly string[]): Promise<DossierRow[]>
}

/** Persistent state of the gateway. */
export interface Store extends PaymentStore, IndicatorStore, MessageLogStore, IdempotencyStore, DeadLetterStore, JobStore {
  readonly kind: string
  /** Creates the schema and recovers from a crash (claimed units become uncertain). */
  init (): Promise<void>
  /** Writes log entry, idempotency record, ledger change and outbox rows in one atomic step. */
  accept (input: AcceptInput): Promise<AcceptResult>
  /** Claims up to `limit` due units for a destination: at most one per dossier, each the dossier's oldest undelivered unit. */
  claim (destination: string, limit: number, now: number): Promise<OutboxItem[]>
  /** Records delivery outcomes. */
  complete (completions: readonly Completion[]): Promise<void>
  /** Earliest next attempt time among the units of a destination that could be claimed (each dossier's oldest). */
  nextDueAt (destination: string): Promise<number | undefined>
  getDossier (maHoSo: string): Promise<DossierView | undefined>
  /** The current state of a dossier, or undefined. */
  dossierState (maHoSo: string): Promise<{ owner: string, state: DossierState } | undefined>
  /** Dossiers delivered to a destination with `op` that have no event of `kind` yet (e.g. submitted to tax, no notice). */
  awaitingEvent (destination: string, op: string, kind: string, limit: number): Promise<string[]>
  /** Whether the store answers. */
  ping (): Promise<boolean>
  /** A shared store: how often delivery workers look for work other instances queued (ms). */
  readonly pollIntervalMs?: number
  close (): Promise<void>
}
