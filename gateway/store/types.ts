/**
 * The store contract. The embedded SQLite store implements it now; the Redis store for
 * several instances implements it again, and tests/store/contract.ts runs against both.
 */
import type { DeliveryUnit } from '../../adapters/registry.js'
import type { DeliveryErrorCode } from '../errors.js'
import type { DossierEvent, DossierRow, LedgerChange } from '../ledger/plan.js'
import type { DossierState } from '../ledger/state-machine.js'

export type MessageKind = 'dossier' | 'progress'

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
}

/** Everything one accept writes, atomically. */
export interface AcceptInput {
  messageId: string
  receivedAt: number
  sender: string
  kind: MessageKind
  /** Sender-scoped key: the Idempotency-Key header or a hash of sender, MaHoSo and content. */
  idempotencyKey: string
  /** SHA-256 of the body: a reused key with another body is refused. */
  contentHash: string
  /** The raw body, for the message log. */
  body: string
  /** Dossiers the message touches; their current rows are handed to `plan`. */
  maHoSo: string[]
  reply: AcceptReply
  /**
   * Decides the ledger change and the outbox rows from the current rows; may throw an
   * LgspError, in which case nothing is written. Called inside the store's atomic section.
   */
  plan: (current: ReadonlyMap<string, DossierRow>) => { change: LedgerChange, outbox: OutboxInsert[] }
}

export type AcceptResult =
  | { replayed: false, reply: AcceptReply }
  | { replayed: true, reply: AcceptReply }

/** An outbox unit claimed for delivery: the adapter's unit, plus where it goes. */
export interface OutboxItem extends DeliveryUnit {
  destination: string
  createdAt: number
}

/** What happened to a claimed unit. */
export type Completion =
  | { id: number, outcome: 'delivered', note?: string }
  | { id: number, outcome: 'retry', nextAt: number, code: DeliveryErrorCode, error: string, uncertain: boolean }
  | { id: number, outcome: 'dead', code: DeliveryErrorCode, error: string }

/** A dead-lettered unit, for operators. */
export interface DeadLetter {
  id: number
  destination: string
  maHoSo: string
  messageId: string
  op: string
  attempts: number
  code: string
  error: string
  createdAt: number
  failedAt: number
  /** Later units of the same dossier held back behind this one (per-dossier order). */
  blocked: number
}

/** Per destination queue figures. */
export interface QueueStats {
  destination: string
  pending: number
  inflight: number
  dead: number
  delivered: number
  /** Age in ms of the oldest undelivered unit, 0 when none. */
  oldestAgeMs: number
}

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

/** Filter for the dead-letter list. */
export interface DeadFilter {
  destination?: string
  maHoSo?: string
  limit?: number
}

/** Persistent state of the gateway. */
export interface Store {
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
  listDead (filter: DeadFilter): Promise<DeadLetter[]>
  /** Puts a dead unit back in the queue (attempts reset); false when there is no such entry. */
  replayDead (id: number, now: number): Promise<boolean>
  /** Drops a dead unit (recorded as discarded) so the dossier's later units can flow. */
  discardDead (id: number, now: number, reason: string): Promise<boolean>
  queueStats (): Promise<QueueStats[]>
  /** Deletes idempotency records older than the horizon; returns how many. */
  purgeIdempotency (olderThan: number): Promise<number>
  /** Whether the store answers. */
  ping (): Promise<boolean>
  close (): Promise<void>
}
