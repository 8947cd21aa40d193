/** The dead-letter port: the operator's side of the outbox (dead-letters/sqlite.ts, dead-letters/redis.ts; rules in rules/dead-letters.ts). */

/** One delivery attempt of a unit, as the store keeps it for operators. */
export interface DeliveryAttempt {
  at: number
  /** The unit's attempt number (it starts again at 1 after a replay). */
  attempt: number
  outcome: 'delivered' | 'retry' | 'dead'
  code: string | null
  /** The upstream's answer or the transport error, scrubbed of personal data by the worker. */
  message: string | null
  ms: number
  /** The upstream may have acted on it although it failed (a timeout, a lost answer). */
  uncertain: boolean
}

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

/** Filter for the dead-letter list. */
export interface DeadFilter {
  destination?: string
  maHoSo?: string
  /** The error code the unit died with (e.g. LGSP_ERR_DVCQG_REJECTED). */
  code?: string
  /** Died at or after this instant (ms). */
  from?: number
  /** Died before this instant (ms). */
  to?: number
  /**
   * Only entries after this one in the list's order (failedAt, then id): deadCursor() of the
   * last entry of the previous page. Each page is one index range on both stores.
   */
  after?: string
  limit?: number
}

/** Dead letters, the attempts kept per unit, and the queues' figures. */
export interface DeadLetterStore {
  /** Dead letters in the order they died (failedAt, then id), filtered and paged through an index. */
  listDead (filter: DeadFilter): Promise<DeadLetter[]>
  /** One dead letter by its unit id. */
  deadLetter (id: number): Promise<DeadLetter | undefined>
  /** The attempts kept for a unit (the last ATTEMPTS_KEPT), oldest first. */
  attemptsOf (unit: number): Promise<DeliveryAttempt[]>
  /** Puts a dead unit back in the queue (attempts reset); false when there is no such entry. */
  replayDead (id: number, now: number): Promise<boolean>
  /** Drops a dead unit (recorded as discarded) so the dossier's later units can flow. */
  discardDead (id: number, now: number, reason: string): Promise<boolean>
  queueStats (): Promise<QueueStats[]>
}
