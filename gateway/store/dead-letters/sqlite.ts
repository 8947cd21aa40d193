/**
 * Dead letters on SQLite: the dead units are outbox rows in state 'dead', read through
 * partial indexes that hold dead units only; a unit's attempts are kept beside it by the
 * completion (sqlite.ts complete, in the same write). The list's filter, order and cursor,
 * what a replay resets and the queue figures are rules/dead-letters.ts; the list says the
 * same filter and order in SQL, so that each page is one index range.
 */
import type Database from 'better-sqlite3'
import { queueFigures, byDestination, DEAD_PAGE, readDeadCursor, replayReset } from '../rules/dead-letters.js'
import type { DeadFilter, DeadLetter, DeadLetterStore, DeliveryAttempt, QueueStats } from './types.js'

/** Queues a write for the store's next group commit. */
export type Write = <T>(run: () => T) => Promise<T>

/**
 * Dead letters and delivery attempts (no schema version of their own: both are added in place).
 * The partial indexes hold dead units only, so each dead-letter page is one index range
 * whatever the filter, at no cost to the queue's own writes; a unit's attempts are read by unit.
 */
export const deadLetterSchema = `
CREATE INDEX IF NOT EXISTS outbox_dead ON outbox (failed_at, id) WHERE state = 'dead';
CREATE INDEX IF NOT EXISTS outbox_dead_destination ON outbox (destination, failed_at, id) WHERE state = 'dead';
CREATE INDEX IF NOT EXISTS outbox_dead_code ON outbox (last_error_code, failed_at, id) WHERE state = 'dead';
CREATE INDEX IF NOT EXISTS outbox_dead_destination_code ON outbox (destination, last_error_code, failed_at, id) WHERE state = 'dead';
CREATE INDEX IF NOT EXISTS outbox_dead_dossier ON outbox (ma_ho_so, failed_at, id) WHERE state = 'dead';
CREATE TABLE IF NOT EXISTS delivery_attempts (
  unit INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  outcome TEXT NOT NULL,          -- delivered | retry | dead
  code TEXT,
  message TEXT,
  ms INTEGER NOT NULL,
  uncertain INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS delivery_attempts_unit ON delivery_attempts (unit);
`

/** A dead outbox row as the list reads it. */
interface DeadRecord {
  id: number
  destination: string
  ma_ho_so: string
  message_id: string
  op: string
  attempts: number
  last_error_code: string | null
  last_error: string | null
  created_at: number
  failed_at: number | null
  blocked: number
}

/** The store's own statements a discard shares with a completion: a unit leaves the outbox for `deliveries`. */
export interface UnitExit {
  /** Copies the unit to `deliveries` if it is in state @from: one change when it was. */
  finish: Database.Statement<{ id: number, now: number, outcome: 'discarded', note: string, from: 'dead' }>
  outboxDel: Database.Statement<[number]>
}

export class SqliteDeadLetters implements DeadLetterStore {
  readonly #db: Database.Database
  readonly #write: Write
  readonly #exit: UnitExit
  readonly #statements

  constructor (db: Database.Database, write: Write, exit: UnitExit) {
    this.#db = db
    this.#write = write
    this.#exit = exit
    this.#statements = {
      attemptsOf: db.prepare<[number], Omit<DeliveryAttempt, 'uncertain'> & { uncertain: number }>(
        'SELECT attempt, at, outcome, code, message, ms, uncertain FROM delivery_attempts WHERE unit = ? ORDER BY rowid'),
      replay: db.prepare<{ id: number, attempts: number, nextAt: number }>(
        "UPDATE outbox SET state = 'pending', attempts = @attempts, next_at = @nextAt, failed_at = NULL WHERE id = @id AND state = 'dead'"),
      stats: db.prepare<[], { destination: string, state: string, n: number, oldest: number }>(
        'SELECT destination, state, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox GROUP BY destination, state'),
      delivered: db.prepare<[], { destination: string, delivered: number }>('SELECT destination, delivered FROM delivery_counts')
    }
  }

  async attemptsOf (unit: number): Promise<DeliveryAttempt[]> {
    return this.#statements.attemptsOf.all(unit).map((r) => ({ ...r, uncertain: r.uncertain === 1 }))
  }

  async deadLetter (id: number): Promise<DeadLetter | undefined> {
    return (await this.listDead({ id }))[0]
  }

  /**
   * One index range of the partial dead-letter indexes (deadLetterSchema), whatever the filter:
   * rules/dead-letters.ts deadMatches and deadOrder, said in SQL.
   */
  async listDead (filter: DeadFilter & { id?: number }): Promise<DeadLetter[]> {
    const where = ["o.state = 'dead'"]
    const args: Record<string, unknown> = { limit: filter.limit ?? DEAD_PAGE }
    const add = (sql: string, name: string, value: unknown): void => { if (value !== undefined) { where.push(sql); args[name] = value } }
    add('o.id = @id', 'id', filter.id)
    add('o.destination = @destination', 'destination', filter.destination)
    add('o.ma_ho_so = @maHoSo', 'maHoSo', filter.maHoSo)
    add('o.last_error_code = @code', 'code', filter.code)
    add('o.failed_at >= @from', 'from', filter.from)
    add('o.failed_at < @to', 'to', filter.to)
    const c = readDeadCursor(filter.after)
    if (c !== undefined) {
      where.push('(o.failed_at, o.id) > (@afterAt, @afterId)')
      args.afterAt = c.failedAt
      args.afterId = c.id
    }
    const rows = this.#db.prepare<Record<string, unknown>, DeadRecord>(`
      SELECT o.*, (SELECT COUNT(*) FROM outbox p WHERE p.destination = o.destination AND p.ma_ho_so = o.ma_ho_so AND p.id > o.id) AS blocked
      FROM outbox o WHERE ${where.join(' AND ')} ORDER BY o.failed_at, o.id LIMIT @limit`).all(args)
    return rows.map((o) => ({
      id: o.id,
      destination: o.destination,
      maHoSo: o.ma_ho_so,
      messageId: o.message_id,
      op: o.op,
      attempts: o.attempts,
      code: o.last_error_code ?? '',
      error: o.last_error ?? '',
      createdAt: o.created_at,
      failedAt: o.failed_at ?? 0,
      blocked: o.blocked
    }))
  }

  replayDead (id: number, now: number): Promise<boolean> {
    return this.#write(() => this.#statements.replay.run({ id, ...replayReset(now) }).changes === 1)
  }

  discardDead (id: number, now: number, reason: string): Promise<boolean> {
    return this.#write(() => {
      const moved = this.#exit.finish.run({ id, now, outcome: 'discarded', note: reason, from: 'dead' })
      if (moved.changes !== 1) return false
      this.#exit.outboxDel.run(id)
      return true
    })
  }

  async queueStats (): Promise<QueueStats[]> {
    const now = Date.now()
    const counts = new Map<string, Partial<Record<'pending' | 'inflight' | 'dead' | 'delivered', number>>>()
    const oldest = new Map<string, number>()
    const of = (destination: string): Partial<Record<'pending' | 'inflight' | 'dead' | 'delivered', number>> => {
      let c = counts.get(destination)
      if (c === undefined) counts.set(destination, c = {})
      return c
    }
    for (const r of this.#statements.stats.all()) {
      const c = of(r.destination)
      if (r.state === 'pending' || r.state === 'inflight' || r.state === 'dead') c[r.state] = r.n
      oldest.set(r.destination, Math.min(oldest.get(r.destination) ?? r.oldest, r.oldest))
    }
    for (const r of this.#statements.delivered.all()) of(r.destination).delivered = r.delivered
    return byDestination([...counts].map(([destination, c]) => queueFigures(destination, c, oldest.get(destination), now)))
  }
}
