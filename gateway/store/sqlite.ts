/**
 * The embedded store: one SQLite file in WAL mode (better-sqlite3).
 *
 * Ports: payments, idempotency keys, the message log, dead letters and jobs (cursors) live
 * beside this file, each with its Redis twin (payments/, idempotency/, message-log/,
 * dead-letters/, jobs/); this class composes them and shares its group commit with them.
 * Why it is still over 400 lines: the ledger, the outbox's hot path (accept, claim, complete)
 * and the indicator facts are still here, to move out the same way once the branches
 * reworking them (delivery throughput, 766 figures) have landed.
 *
 * Group commit: every write (accept, claim, completion) is queued and the queue is flushed
 * once per event-loop turn in one IMMEDIATE transaction, so one fsync covers every request
 * that arrived meanwhile. A queued write may refuse (throw an LgspError: illegal transition,
 * reused key) only before its first write, so a refusal affects that message alone; any
 * other error aborts the whole batch and every caller in it gets the error. A caller's
 * promise resolves only once its COMMIT is on disk, so a 202 is sent only for what is durable.
 *
 * The fsync is off the event loop: with synchronous=full the connection runs with
 * synchronous=NORMAL (a COMMIT writes the WAL without syncing it) and the store fdatasyncs
 * the WAL file in libuv's thread pool after COMMIT, resolving every caller whose COMMIT came
 * before that fdatasync began. What is acknowledged is as durable as with synchronous=FULL
 * (a lost WAL tail after a power cut holds only commits nobody was answered for; checkpoints
 * and a WAL's reuse are still synced by SQLite itself), but the event loop serves HTTP while
 * the disk syncs (measured: a FULL commit held the loop 4-6 ms, of which 0.6 ms CPU).
 * (A savepoint per write would also isolate unexpected errors, but costs two statements per
 * message: measured at about 15% of intake throughput.)
 */
import { closeSync, fdatasync, fstatSync, mkdirSync, openSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { LgspError, lgspError } from '../errors.js'
import type { DeliveryEffect } from '../../adapters/registry.js'
import type { DossierEvent, DossierRow } from '../ledger/plan.js'
import type { DossierState } from '../ledger/state-machine.js'
import { noCounts, tally, type DossierFacts, type IndicatorCounts, type Period, type RuleProfile } from '../ledger/indicators.js'
import { ATTEMPTS_KEPT, provinceOf, unitViews } from './shared.js'
import type { Checkpoint, LogAppend, LogEntry } from '../crypto/message-log.js'
import { idempotencyHashOf, replayOrRefuse } from './rules/idempotency.js'
import { idempotencySchema, SqliteIdempotency } from './idempotency/sqlite.js'
import { messageLogSchema, SqliteMessageLog, type Write } from './message-log/sqlite.js'
import { paymentsSchema, SqlitePayments } from './payments/sqlite.js'
import { deadLetterSchema, SqliteDeadLetters } from './dead-letters/sqlite.js'
import { cursorsSchema, SqliteJobs } from './jobs/sqlite.js'
import type {
  AcceptInput, AcceptResult, AgencyScope, CallbackAnomaly, FactsDeriver, IndicatorRevision, Completion, DeadFilter, DeadLetter, DeliveryAttempt, DossierView, NewPayment, OutboxItem,
  LogRange, Payment, PaymentOutcome, PaymentResult, QueueStats, SettlementReport, Store
} from './types.js'

export interface SqliteStoreOptions {
  /** Database file, or ':memory:'. */
  path: string
  synchronous: 'full' | 'normal'
  /** Keeps the indicator facts current at each accept; without it they are not maintained. */
  facts?: FactsDeriver
}

type FactsRecord = [string, string, string, number, number | null, number | null, number | null, number, number, number | null, number, number, number, number, number, number, string?]

/** A dossier's facts as columns (detail aside). */
const COUNTED_COLUMNS = 'ma_ho_so, agency, ma_tthc, state, received_at, due_at, ended_at, supplements, paused_ms, pause_since, online, fee_bearing, paid_online, digitised, reuse, synced'
/** With `detail`: the event-time observations behind the durations, and why a dossier counts (drill-down). */
const FACTS_COLUMNS = `${COUNTED_COLUMNS}, detail`

const toFacts = (r: FactsRecord): DossierFacts => {
  const f: DossierFacts = {
    maHoSo: r[0], agency: r[1], maTTHC: r[2], state: r[3], receivedAt: r[4], dueAt: r[5], endedAt: r[6], supplements: r[7], pausedMs: r[8], pauseSince: r[9],
    online: r[10] === 1, feeBearing: r[11] === 1, paidOnline: r[12] === 1, digitised: r[13] === 1, reuse: r[14] === 1, synced: r[15] === 1
  }
  if (r[16] !== undefined && r[16] !== null && r[16] !== '') f.detail = JSON.parse(r[16])
  return f
}

const factsParams = (f: DossierFacts): unknown[] => [f.maHoSo, f.agency, f.maTTHC, f.state, f.receivedAt, f.dueAt, f.endedAt, f.supplements, f.pausedMs, f.pauseSince,
  Number(f.online), Number(f.feeBearing), Number(f.paidOnline), Number(f.digitised), Number(f.reuse), Number(f.synced), f.detail === undefined ? '' : JSON.stringify(f.detail)]

const SCHEMA_VERSION = 6

const schema = `
CREATE TABLE IF NOT EXISTS dossiers (
  ma_ho_so TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  ma_tthc TEXT NOT NULL,
  state INTEGER NOT NULL,
  last_event_at INTEGER,
  record TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dossier_events (
  id INTEGER PRIMARY KEY,
  ma_ho_so TEXT NOT NULL,
  message_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  at INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  from_state INTEGER,
  to_state INTEGER NOT NULL,
  applied INTEGER NOT NULL,
  sender TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dossier_events_dossier ON dossier_events (ma_ho_so, id);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  destination TEXT NOT NULL,
  ma_ho_so TEXT NOT NULL,
  message_id TEXT NOT NULL,
  op TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL,            -- pending | inflight | dead
  attempts INTEGER NOT NULL DEFAULT 0,
  uncertain INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error_code TEXT,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  failed_at INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (destination, state, next_at);
CREATE INDEX IF NOT EXISTS outbox_order ON outbox (destination, ma_ho_so, id);
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY,
  destination TEXT NOT NULL,
  ma_ho_so TEXT NOT NULL,
  message_id TEXT NOT NULL,
  op TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  outcome TEXT NOT NULL,          -- delivered | discarded
  note TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_dossier ON deliveries (ma_ho_so, id);
CREATE TABLE IF NOT EXISTS delivery_counts (
  destination TEXT PRIMARY KEY,
  delivered INTEGER NOT NULL
);
-- version 4: Decision 766 indicators
CREATE TABLE IF NOT EXISTS dossier_facts (
  ma_ho_so TEXT PRIMARY KEY,
  agency TEXT NOT NULL,
  ma_tthc TEXT NOT NULL,
  state INTEGER NOT NULL,
  received_at INTEGER,
  due_at INTEGER,
  ended_at INTEGER,
  supplements INTEGER NOT NULL,
  paused_ms INTEGER NOT NULL,
  pause_since INTEGER,
  online INTEGER NOT NULL,
  fee_bearing INTEGER NOT NULL,
  paid_online INTEGER NOT NULL,
  digitised INTEGER NOT NULL,
  reuse INTEGER NOT NULL,
  synced INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS indicator_revisions (
  agency TEXT NOT NULL,
  period TEXT NOT NULL,
  revision INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  report TEXT NOT NULL,
  changes TEXT NOT NULL,
  PRIMARY KEY (agency, period, revision)
);
`

interface OutboxRecord {
  id: number
  destination: string
  ma_ho_so: string
  message_id: string
  /** The member whose message it came from (null for units written before version 6). */
  sender: string | null
  op: string
  payload: string
  /** The incoming request's trace id (null when it carried no traceparent). */
  trace_id: string | null
  state: 'pending' | 'inflight' | 'dead'
  attempts: number
  uncertain: number
  next_at: number
  last_error_code: string | null
  last_error: string | null
  created_at: number
  failed_at: number | null
}

interface DossierRecord {
  ma_ho_so: string
  owner: string
  ma_tthc: string
  state: number
  last_event_at: number | null
  record: string
  version: number
  created_at: number
  updated_at: number
}

interface Pending {
  run: () => unknown
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}


const toRow = (r: DossierRecord): DossierRow => ({
  maHoSo: r.ma_ho_so,
  owner: r.owner,
  maTTHC: r.ma_tthc,
  state: r.state as DossierState,
  lastEventAt: r.last_event_at,
  record: JSON.parse(r.record) as DossierRow['record'],
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at
})

/** The embedded SQLite store. */
export class SqliteStore implements Store {
  readonly kind = 'sqlite'
  readonly #db: Database.Database
  readonly #synchronous: 'full' | 'normal'
  readonly #facts: FactsDeriver | undefined
  /** The period and profile of the count running now (better-sqlite3 runs a query synchronously: one at a time). */
  #counting: { period: Pick<Period, 'from' | 'to'>, profile: RuleProfile | undefined } | undefined
  #queue: Pending[] = []
  /** The ports kept beside the ledger and outbox, created by init() once the schema exists. */
  #log!: SqliteMessageLog
  #idempotency!: SqliteIdempotency
  #payments!: SqlitePayments
  #dead!: SqliteDeadLetters
  #jobs!: SqliteJobs
  #scheduled = false
  #closed = false
  /** The WAL file synced after each COMMIT (synchronous=full on a file); undefined: COMMIT itself is enough. */
  #wal: { path: string, fd: number | undefined } | undefined
  /** Committed batches waiting for a sync of the WAL that starts after their COMMIT. */
  #unsynced: Array<() => void> = []
  #unsyncedFailed: Array<(err: unknown) => void> = []
  #syncing = false
  #statements!: ReturnType<SqliteStore['prepare']>

  constructor (options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true })
    this.#db = new Database(options.path)
    this.#synchronous = options.synchronous
    this.#facts = options.facts
  }

  async init (): Promise<void> {
    const db = this.#db
    db.pragma('journal_mode = WAL')
    // synchronous=full: the WAL is synced by this store after COMMIT, off the event loop (see the header).
    const walSync = this.#synchronous === 'full' && this.#db.name !== ':memory:' && !this.#db.memory
    db.pragma(`synchronous = ${walSync ? 'NORMAL' : this.#synchronous.toUpperCase()}`)
    if (walSync) this.#wal = { path: `${this.#db.name}-wal`, fd: undefined }
    db.pragma('busy_timeout = 5000')
    // Reads of large ledgers (indicator queries) stay in memory: a 64 MiB page cache and memory-mapped reads.
    db.pragma('cache_size = -65536')
    db.pragma('mmap_size = 268435456')
    const version = db.pragma('user_version', { simple: true }) as number
    if (version > SCHEMA_VERSION) {
      throw lgspError('LGSP_ERR_CONFIG_INVALID', `The database was written by a newer gateway (schema ${version}); upgrade the gateway.`)
    }
    db.exec(messageLogSchema)
    db.exec(idempotencySchema)
    db.exec(schema)
    db.exec(cursorsSchema)
    db.exec(paymentsSchema)
    db.exec(deadLetterSchema)
    // version 6: each outbox unit names the member its message came from (its message-log policy applies to what is sent).
    if (!(db.pragma('table_info(outbox)') as Array<{ name: string }>).some((c) => c.name === 'sender')) db.exec('ALTER TABLE outbox ADD COLUMN sender TEXT')
    // The incoming request's W3C trace id, continued by the unit's deliveries (nullable: older gateways ignore it).
    if (!(db.pragma('table_info(outbox)') as Array<{ name: string }>).some((c) => c.name === 'trace_id')) db.exec('ALTER TABLE outbox ADD COLUMN trace_id TEXT')
    // version 5: the province (Hnn) of each dossier's agency, indexed, so a province-wide query needs no full scan.
    if (!(db.pragma('table_info(dossier_facts)') as Array<{ name: string }>).some((c) => c.name === 'province')) {
      db.exec(`ALTER TABLE dossier_facts ADD COLUMN province TEXT NOT NULL DEFAULT '';
        UPDATE dossier_facts SET province = substr(agency, instr(agency, '.H') + 1) WHERE instr(agency, '.H') > 0;`)
    }
    // The event-time observations and the reasons' inputs (JSON); facts kept before it have none until their next message.
    if (!(db.pragma('table_info(dossier_facts)') as Array<{ name: string }>).some((c) => c.name === 'detail')) db.exec("ALTER TABLE dossier_facts ADD COLUMN detail TEXT NOT NULL DEFAULT ''")
    // The province indexes carry every column the counts read, so a province-wide count is an index-only scan.
    // Agency queries use them too, filtering on the covered agency column: fewer indexes to keep at each accept.
    const counted = 'agency, state, due_at, supplements, paused_ms, pause_since, online, fee_bearing, paid_online, digitised, reuse, synced'
    db.exec(`DROP INDEX IF EXISTS dossier_facts_received; DROP INDEX IF EXISTS dossier_facts_ended; DROP INDEX IF EXISTS dossier_facts_open;
      CREATE INDEX IF NOT EXISTS dossier_facts_province ON dossier_facts (province, received_at, ended_at, ${counted});
      CREATE INDEX IF NOT EXISTS dossier_facts_province_ended ON dossier_facts (province, ended_at, received_at, ${counted});
      CREATE INDEX IF NOT EXISTS dossier_facts_province_open ON dossier_facts (province, received_at, ${counted}) WHERE ended_at IS NULL;`)
    this.#statements = this.prepare()
    const write: Write = (run) => this.#write(run)
    this.#log = new SqliteMessageLog(db, write)
    this.#idempotency = new SqliteIdempotency(db)
    this.#payments = new SqlitePayments(db, write)
    this.#dead = new SqliteDeadLetters(db, write, { finish: this.#statements.finish, outboxDel: this.#statements.outboxDel })
    this.#jobs = new SqliteJobs(db, write)
    // The indicators' rules (ledger/indicators.ts tally) as an aggregate: SQLite feeds it each
    // row of the query, so the counts follow the one set of rules without reading rows out.
    db.aggregate('lgsp_tally', {
      start: noCounts,
      step: ((c: IndicatorCounts, agency: string, state: number, receivedAt: number | null, dueAt: number | null, endedAt: number | null, supplements: number, pausedMs: number,
        pauseSince: number | null, online: number, feeBearing: number, paidOnline: number, digitised: number, reuse: number, synced: number) => {
        tally(c, { maHoSo: '', agency, maTTHC: '', state, receivedAt, dueAt, endedAt, supplements, pausedMs, pauseSince, online: online === 1, feeBearing: feeBearing === 1, paidOnline: paidOnline === 1, digitised: digitised === 1, reuse: reuse === 1, synced: synced === 1 },
          this.#counting!.period, this.#counting!.profile)
        return c
      }) as unknown as (total: IndicatorCounts, next: unknown) => IndicatorCounts, // one argument per column: better-sqlite3's type knows only one
      result: (c: IndicatorCounts) => JSON.stringify(c)
    })
    if (version < 6 && (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages'").get() !== undefined)) this.#log.migrateMessages()
    db.pragma(`user_version = ${SCHEMA_VERSION}`)
    // Units claimed when the process died may or may not have reached the destination.
    db.prepare("UPDATE outbox SET state = 'pending', uncertain = 1 WHERE state = 'inflight'").run()
  }


  private prepare () {
    const db = this.#db
    return {
      dossierGet: db.prepare<[string], DossierRecord>('SELECT * FROM dossiers WHERE ma_ho_so = ?'),
      dossierState: db.prepare<[string], { owner: string, state: number }>('SELECT owner, state FROM dossiers WHERE ma_ho_so = ?'),
      dossierPut: db.prepare(`INSERT INTO dossiers (ma_ho_so, owner, ma_tthc, state, last_event_at, record, version, created_at, updated_at)
        VALUES (@maHoSo, @owner, @maTTHC, @state, @lastEventAt, @record, @version, @createdAt, @updatedAt)
        ON CONFLICT (ma_ho_so) DO UPDATE SET ma_tthc = excluded.ma_tthc, state = excluded.state, last_event_at = excluded.last_event_at,
          record = excluded.record, version = excluded.version, updated_at = excluded.updated_at`),
      eventPut: db.prepare(`INSERT INTO dossier_events (ma_ho_so, message_id, kind, at, received_at, from_state, to_state, applied, sender)
        VALUES (@maHoSo, @messageId, @kind, @at, @receivedAt, @fromState, @toState, @applied, @sender)`),
      eventsOf: db.prepare<[string], { ma_ho_so: string, message_id: string, kind: 'dossier' | 'progress', at: number, received_at: number, from_state: number | null, to_state: number, applied: number, sender: string }>(
        'SELECT * FROM dossier_events WHERE ma_ho_so = ? ORDER BY id'),
      outboxPut: db.prepare(`INSERT INTO outbox (destination, ma_ho_so, message_id, op, payload, state, next_at, created_at, sender, trace_id)
        VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`),
      claimable: db.prepare<{ d: string, now: number, limit: number }, OutboxRecord>(`
        SELECT o.* FROM outbox o
        WHERE o.destination = @d AND o.state = 'pending' AND o.next_at <= @now
          AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.destination = o.destination AND p.ma_ho_so = o.ma_ho_so AND p.id < o.id)
        ORDER BY o.next_at, o.id LIMIT @limit`),
      markInflight: db.prepare("UPDATE outbox SET state = 'inflight', attempts = attempts + 1 WHERE id = ? AND state = 'pending'"),
      finish: db.prepare(`INSERT INTO deliveries (id, destination, ma_ho_so, message_id, op, attempts, created_at, finished_at, outcome, note)
        SELECT id, destination, ma_ho_so, message_id, op, attempts, created_at, @now, @outcome, @note FROM outbox WHERE id = @id AND state = @from`),
      outboxDel: db.prepare('DELETE FROM outbox WHERE id = ?'),
      attemptAny: db.prepare<[number], { one: number }>('SELECT 1 AS one FROM delivery_attempts WHERE unit = ? LIMIT 1'),
      attemptPut: db.prepare(`INSERT INTO delivery_attempts (unit, attempt, at, outcome, code, message, ms, uncertain)
        VALUES (@unit, @attempt, @at, @outcome, @code, @message, @ms, @uncertain)`),
      attemptTrim: db.prepare(`DELETE FROM delivery_attempts WHERE unit = @unit AND rowid <=
        (SELECT rowid FROM delivery_attempts WHERE unit = @unit ORDER BY rowid DESC LIMIT 1 OFFSET @keep)`),
      countDelivered: db.prepare(`INSERT INTO delivery_counts (destination, delivered) SELECT destination, 1 FROM deliveries WHERE id = ?
        ON CONFLICT (destination) DO UPDATE SET delivered = delivered + 1`),
      retry: db.prepare(`UPDATE outbox SET state = 'pending', next_at = @nextAt, last_error_code = @code, last_error = @error, uncertain = @uncertain
        WHERE id = @id AND state = 'inflight'`),
      dead: db.prepare(`UPDATE outbox SET state = 'dead', last_error_code = @code, last_error = @error, failed_at = @now
        WHERE id = @id AND state = 'inflight'`),
      // Only a dossier's oldest unit can be claimed: later ones wait for it, whatever their next_at.
      nextDue: db.prepare<[string], { next: number }>(`
        SELECT o.next_at AS next FROM outbox o
        WHERE o.destination = ? AND o.state = 'pending'
          AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.destination = o.destination AND p.ma_ho_so = o.ma_ho_so AND p.id < o.id)
        ORDER BY o.next_at LIMIT 1`),
      outboxOf: db.prepare<[string], OutboxRecord>('SELECT * FROM outbox WHERE ma_ho_so = ? ORDER BY id'),
      deliveriesOf: db.prepare<[string], { id: number, destination: string, message_id: string, op: string, attempts: number, finished_at: number, outcome: 'delivered' | 'discarded' }>(
        'SELECT * FROM deliveries WHERE ma_ho_so = ? ORDER BY id'),
      awaiting: db.prepare<[string, string, string, number], { ma_ho_so: string }>(`SELECT DISTINCT d.ma_ho_so FROM deliveries d
        WHERE d.destination = ? AND d.op = ? AND d.outcome = 'delivered'
          AND NOT EXISTS (SELECT 1 FROM dossier_events e WHERE e.ma_ho_so = d.ma_ho_so AND e.kind = ?)
        ORDER BY d.id LIMIT ?`),
      factsGet: db.prepare<[string], FactsRecord>(`SELECT ${FACTS_COLUMNS} FROM dossier_facts WHERE ma_ho_so = ?`).raw(),
      // An upsert updates in place: only the index entries whose columns changed are rewritten.
      factsPut: db.prepare(`INSERT INTO dossier_facts (${FACTS_COLUMNS}, province) VALUES (${FACTS_COLUMNS.split(',').map(() => '?').join(', ')}, ?)
        ON CONFLICT (ma_ho_so) DO UPDATE SET ${FACTS_COLUMNS.split(',').slice(1).map((c) => `${c.trim()} = excluded.${c.trim()}`).join(', ')}`),
      factsSynced: db.prepare('UPDATE dossier_facts SET synced = 1 WHERE ma_ho_so = ?'),
      revisionLatest: db.prepare<[string, string], { agency: string, period: string, revision: number, created_at: number, report: string, changes: string }>(
        'SELECT * FROM indicator_revisions WHERE agency = ? AND period = ? ORDER BY revision DESC LIMIT 1'),
      revisionsOf: db.prepare<[string, string], { agency: string, period: string, revision: number, created_at: number, report: string, changes: string }>(
        'SELECT * FROM indicator_revisions WHERE agency = ? AND period = ? ORDER BY revision'),
      revisionPut: db.prepare('INSERT INTO indicator_revisions (agency, period, revision, created_at, report, changes) VALUES (?, ?, ?, ?, ?, ?)')
    }
  }

  /** Queues a write for the next group commit. */
  #write<T> (run: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(lgspError('LGSP_ERR_SERVER_UNAVAILABLE', 'The store is closed.'))
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run, resolve: resolve as (v: unknown) => void, reject })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(this.#flush)
      }
    })
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    const batch = this.#queue
    this.#queue = []
    if (batch.length === 0) return
    const outcomes: Array<{ ok: true, value: unknown } | { ok: false, err: unknown }> = []
    this.#log.beginBatch()
    try {
      this.#db.transaction(() => {
        for (const p of batch) {
          try {
            outcomes.push({ ok: true, value: p.run() })
          } catch (err) {
            // A refusal comes before any write of that message; anything else aborts the batch.
            if (!(err instanceof LgspError)) throw err
            outcomes.push({ ok: false, err })
          }
        }
      }).immediate()
    } catch (err) {
      // A write or COMMIT failed (disk full, I/O error): the batch rolled back, nothing is durable,
      // not even the headers it stored.
      this.#log.rolledBack()
      for (const p of batch) p.reject(err)
      return
    }
    const settle = (): void => batch.forEach((p, i) => {
      const o = outcomes[i]!
      if (o.ok) p.resolve(o.value)
      else p.reject(o.err)
    })
    if (this.#wal === undefined) {
      settle()
      return
    }
    this.#unsynced.push(settle)
    // Committed but maybe not yet on disk: nobody in this batch is answered until the WAL is synced.
    this.#unsyncedFailed.push((err) => { for (const p of batch) p.reject(err) })
    this.#syncWal()
  }

  /** The WAL's descriptor, opened again if the file was replaced (it is not while this connection is open; cheap to check). */
  #walFd (): number {
    const wal = this.#wal!
    if (wal.fd !== undefined && fstatSync(wal.fd).ino === statSync(wal.path).ino) return wal.fd
    if (wal.fd !== undefined) closeSync(wal.fd)
    wal.fd = undefined
    wal.fd = openSync(wal.path, 'r')
    return wal.fd
  }

  /** One fdatasync of the WAL at a time in the thread pool; batches committed meanwhile wait for the next one. */
  #syncWal (): void {
    if (this.#syncing || this.#unsynced.length === 0) return
    const settle = this.#unsynced
    const fail = this.#unsyncedFailed
    this.#unsynced = []
    this.#unsyncedFailed = []
    let fd: number
    try {
      fd = this.#walFd()
    } catch (err) {
      // No WAL file: SQLite removes it only after checkpointing (and syncing) all of it into the database.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') for (const f of settle) f()
      else for (const f of fail) f(err)
      return
    }
    this.#syncing = true
    fdatasync(fd, (err) => {
      this.#syncing = false
      if (err === null) for (const f of settle) f()
      else for (const f of fail) f(err)
      this.#syncWal()
    })
  }

  accept (input: AcceptInput): Promise<AcceptResult> {
    return this.#write((): AcceptResult => {
      const s = this.#statements
      const matchHash = idempotencyHashOf(input)
      const first = replayOrRefuse(this.#idempotency.seen(input.idempotencyKey), matchHash, 'message')
      if (first !== undefined) return { replayed: true, reply: first }
      const current = new Map<string, DossierRow>()
      for (const id of input.maHoSo) {
        const r = s.dossierGet.get(id)
        if (r !== undefined) current.set(id, toRow(r))
      }
      const { change, outbox, reply: planned } = input.plan(current)
      const reply = planned === undefined ? input.reply : { ...input.reply, ...planned }
      this.#log.append([{ at: input.receivedAt, direction: 'in', party: input.sender, kind: input.kind, messageId: input.messageId, contentHash: input.contentHash, body: input.body, signature: input.signature ?? null }])
      for (const row of change.rows) {
        s.dossierPut.run({ ...row, record: JSON.stringify(row.record) })
      }
      for (const e of change.events) s.eventPut.run({ ...e, applied: e.applied ? 1 : 0 })
      if (this.#facts !== undefined) {
        for (const row of change.rows) {
          const prev = s.factsGet.get(row.maHoSo)
          const f = this.#facts(prev === undefined ? undefined : toFacts(prev), row, change.events.filter((e) => e.maHoSo === row.maHoSo))
          s.factsPut.run(...factsParams(f), provinceOf(f.agency))
        }
      }
      for (const o of outbox) {
        s.outboxPut.run(o.destination, o.maHoSo, input.messageId, o.op, JSON.stringify(o.payload), input.receivedAt, input.receivedAt, input.sender, input.traceId ?? null)
      }
      this.#idempotency.remember(input.idempotencyKey, matchHash, reply, input.receivedAt)
      return { replayed: false, reply }
    })
  }

  claim (destination: string, limit: number, now: number): Promise<OutboxItem[]> {
    return this.#write(() => {
      const rows = this.#statements.claimable.all({ d: destination, now, limit })
      return rows.map((r): OutboxItem => {
        this.#statements.markInflight.run(r.id)
        return {
          id: r.id,
          destination: r.destination,
          maHoSo: r.ma_ho_so,
          messageId: r.message_id,
          sender: r.sender ?? '',
          op: r.op,
          payload: JSON.parse(r.payload),
          attempts: r.attempts + 1,
          uncertain: r.uncertain === 1,
          createdAt: r.created_at,
          ...(r.trace_id === null ? {} : { traceId: r.trace_id })
        }
      })
    })
  }

  complete (completions: readonly Completion[]): Promise<void> {
    const now = Date.now()
    return this.#write(() => {
      const s = this.#statements
      for (const c of completions) {
        let applied: boolean
        if (c.outcome === 'delivered') {
          applied = s.finish.run({ id: c.id, now, outcome: 'delivered', note: c.note ?? null, from: 'inflight' }).changes === 1
          if (applied) {
            s.outboxDel.run(c.id)
            s.countDelivered.run(c.id)
          }
        } else if (c.outcome === 'retry') {
          applied = s.retry.run({ id: c.id, nextAt: c.nextAt, code: c.code, error: c.error, uncertain: c.uncertain ? 1 : 0 }).changes === 1
        } else {
          applied = s.dead.run({ id: c.id, code: c.code, error: c.error, now }).changes === 1
        }
        // In the same transaction as the completion, and only with it (as the Redis COMPLETE script):
        // both or neither survive a crash.
        if (!applied) continue
        for (const e of c.effects ?? []) this.#applyEffect(e, now)
        if (c.attempt !== undefined) this.#keepAttempt(c.id, c.outcome, c.attempt)
      }
    })
  }

  // ---- attempts, kept with their completion (read by dead-letters/sqlite.ts) ---------------

  /** Keeps one attempt with its unit, inside the completion's write; a success only after failures. */
  #keepAttempt (unit: number, outcome: DeliveryAttempt['outcome'], a: Completion['attempt'] & object): void {
    const s = this.#statements
    if (outcome === 'delivered' && s.attemptAny.get(unit) === undefined) return
    s.attemptPut.run({ unit, attempt: a.attempt, at: a.at, outcome, code: a.code, message: a.message, ms: a.ms, uncertain: a.uncertain ? 1 : 0 })
    s.attemptTrim.run({ unit, keep: ATTEMPTS_KEPT })
  }

  async nextDueAt (destination: string): Promise<number | undefined> {
    return this.#statements.nextDue.get(destination)?.next ?? undefined
  }

  async dossierState (maHoSo: string): Promise<{ owner: string, state: DossierState } | undefined> {
    const r = this.#statements.dossierState.get(maHoSo)
    return r === undefined ? undefined : { owner: r.owner, state: r.state as DossierState }
  }

  async getDossier (maHoSo: string): Promise<DossierView | undefined> {
    const s = this.#statements
    const r = s.dossierGet.get(maHoSo)
    if (r === undefined) return undefined
    const history: DossierEvent[] = s.eventsOf.all(maHoSo).map((e) => ({
      maHoSo: e.ma_ho_so,
      messageId: e.message_id,
      kind: e.kind,
      at: e.at,
      receivedAt: e.received_at,
      fromState: e.from_state as DossierState | null,
      toState: e.to_state as DossierState,
      applied: e.applied === 1,
      sender: e.sender
    }))
    const finished = s.deliveriesOf.all(maHoSo).map((d) => ({ ...d, messageId: d.message_id, finishedAt: d.finished_at }))
    const open = s.outboxOf.all(maHoSo).map((o) => ({
      id: o.id, destination: o.destination, messageId: o.message_id, op: o.op, state: o.state, attempts: o.attempts, nextAt: o.next_at, lastErrorCode: o.last_error_code, lastError: o.last_error
    }))
    const deliveries = unitViews(finished, open)
    return { row: toRow(r), history, deliveries }
  }

  // ---- dead letters (dead-letters/sqlite.ts; attempts are kept by complete above) ---------

  listDead (filter: DeadFilter): Promise<DeadLetter[]> { return this.#dead.listDead(filter) }
  deadLetter (id: number): Promise<DeadLetter | undefined> { return this.#dead.deadLetter(id) }
  attemptsOf (unit: number): Promise<DeliveryAttempt[]> { return this.#dead.attemptsOf(unit) }
  replayDead (id: number, now: number): Promise<boolean> { return this.#dead.replayDead(id, now) }
  discardDead (id: number, now: number, reason: string): Promise<boolean> { return this.#dead.discardDead(id, now, reason) }
  queueStats (): Promise<QueueStats[]> { return this.#dead.queueStats() }

  // ---- payments (payments/sqlite.ts) -------------------------------------------------------

  createPayment (p: NewPayment): Promise<{ created: boolean, payment: Payment }> { return this.#payments.createPayment(p) }
  setPaymentInit (reference: string, result: { url: string } | { error: string }, at: number): Promise<void> { return this.#payments.setPaymentInit(reference, result, at) }
  getPayment (reference: string): Promise<Payment | undefined> { return this.#payments.getPayment(reference) }
  paidPaymentOf (maHoSo: string): Promise<Payment | undefined> { return this.#payments.paidPaymentOf(maHoSo) }
  applyPaymentResult (r: PaymentResult): Promise<{ outcome: PaymentOutcome, payment: Payment }> { return this.#payments.applyPaymentResult(r) }
  callbackReply (key: string): Promise<unknown> { return this.#payments.callbackReply(key) }
  saveCallbackReply (key: string, reference: string, reply: unknown, at: number): Promise<void> { return this.#payments.saveCallbackReply(key, reference, reply, at) }
  recordAnomaly (a: CallbackAnomaly): Promise<void> { return this.#payments.recordAnomaly(a) }
  duePayments (before: number, limit: number): Promise<Payment[]> { return this.#payments.duePayments(before, limit) }
  markQueried (reference: string, at: number): Promise<void> { return this.#payments.markQueried(reference, at) }
  paymentsAwaitingEffect (limit: number): Promise<Payment[]> { return this.#payments.paymentsAwaitingEffect(limit) }
  setPaymentEffect (reference: string, messageId: string): Promise<void> { return this.#payments.setPaymentEffect(reference, messageId) }
  settlement (from: number, to: number): Promise<SettlementReport> { return this.#payments.settlement(from, to) }

  async awaitingEvent (destination: string, op: string, kind: string, limit: number): Promise<string[]> {
    return this.#statements.awaiting.all(destination, op, kind, limit).map((r) => r.ma_ho_so)
  }

  /**
   * The facts that may count for [from, to): received before `to` and not ended before
   * `from`, as four disjoint index ranges (received in the period; received before and ended
   * in it; ended after it; still open), so the cost follows the period's dossiers and the
   * open backlog, not the whole ledger. Named parameters: @from, @to, @s0…
   */
  #population (scope: AgencyScope, columns: string): { sql: string, params: Record<string, unknown> } {
    const params: Record<string, unknown> = {}
    let cond: string
    if ('suffix' in scope) {
      params.s0 = scope.suffix.replace(/^\./, '')
      cond = 'province = @s0'
    } else {
      // Through the province index (agency codes end in .Hnn), filtered on the covered agency column.
      const provinces = [...new Set(scope.codes.map(provinceOf))]
      provinces.forEach((p, i) => { params[`p${i}`] = p })
      scope.codes.forEach((c, i) => { params[`s${i}`] = c })
      cond = `province IN (${provinces.map((_, i) => `@p${i}`).join(', ') || 'NULL'}) AND agency IN (${scope.codes.map((_, i) => `@s${i}`).join(', ') || 'NULL'})`
    }
    const parts = [
      'received_at >= @from AND received_at < @to',
      'ended_at >= @from AND ended_at < @to AND received_at < @from',
      'ended_at >= @to AND received_at < @from',
      'ended_at IS NULL AND received_at < @from'
    ]
    return { sql: parts.map((p) => `SELECT ${columns} FROM dossier_facts WHERE ${cond} AND ${p}`).join(' UNION ALL '), params }
  }

  async factsFor (scope: AgencyScope, from: number, to: number): Promise<DossierFacts[]> {
    const q = this.#population(scope, FACTS_COLUMNS)
    return (this.#db.prepare(q.sql).raw().all({ ...q.params, from, to }) as FactsRecord[]).map(toFacts)
  }

  /**
   * The counts by the one set of rules (tally, as the aggregate lgsp_tally), over the columns the
   * province indexes cover: an index-only read, and no row leaves SQLite.
   */
  async countFacts (scope: AgencyScope, from: number, to: number, profile?: RuleProfile): Promise<IndicatorCounts> {
    const q = this.#population(scope, 'agency, state, received_at, due_at, ended_at, supplements, paused_ms, pause_since, online, fee_bearing, paid_online, digitised, reuse, synced')
    this.#counting = { period: { from, to }, profile }
    try {
      const text = this.#db.prepare(`SELECT lgsp_tally(agency, state, received_at, due_at, ended_at, supplements, paused_ms, pause_since, online, fee_bearing, paid_online, digitised, reuse, synced) FROM (${q.sql})`)
        .pluck().get({ ...q.params, from, to }) as string | null
      return text === null ? noCounts() : JSON.parse(text) as IndicatorCounts
    } finally {
      this.#counting = undefined
    }
  }

  /** One delivery effect (adapters/types.ts DeliveryEffect), inside the caller's transaction. */
  #applyEffect (e: DeliveryEffect, now: number): void {
    if (e.kind === 'dossier-synced') this.#statements.factsSynced.run(e.maHoSo)
    else this.#jobs.putCursor(e.key, e.value, now)
  }

  markSynced (maHoSo: readonly string[]): Promise<void> {
    return this.#write(() => { for (const id of maHoSo) this.#statements.factsSynced.run(id) })
  }

  async latestRevision (agency: string, period: string): Promise<IndicatorRevision | undefined> {
    const r = this.#statements.revisionLatest.get(agency, period)
    return r === undefined ? undefined : { agency: r.agency, period: r.period, revision: r.revision, createdAt: r.created_at, report: JSON.parse(r.report), changes: JSON.parse(r.changes) }
  }

  async revisions (agency: string, period: string): Promise<IndicatorRevision[]> {
    return this.#statements.revisionsOf.all(agency, period).map((r) => ({ agency: r.agency, period: r.period, revision: r.revision, createdAt: r.created_at, report: JSON.parse(r.report), changes: JSON.parse(r.changes) }))
  }

  saveRevision (r: Omit<IndicatorRevision, 'revision'>): Promise<IndicatorRevision> {
    return this.#write(() => {
      const revision = (this.#statements.revisionLatest.get(r.agency, r.period)?.revision ?? 0) + 1
      this.#statements.revisionPut.run(r.agency, r.period, revision, r.createdAt, JSON.stringify(r.report), JSON.stringify(r.changes))
      return { ...r, revision }
    })
  }

  async dossierRows (maHoSo: readonly string[]): Promise<DossierRow[]> {
    return maHoSo.map((id) => this.#statements.dossierGet.get(id)).filter((r): r is DossierRecord => r !== undefined).map(toRow)
  }

  // ---- jobs (jobs/sqlite.ts; no leases or shared attempt counter: one process) -------------

  getCursor (key: string): Promise<string | undefined> { return this.#jobs.getCursor(key) }
  setCursor (key: string, value: string): Promise<void> { return this.#jobs.setCursor(key, value) }

  // ---- idempotency (idempotency/sqlite.ts; checked inside accept) ---------------------------

  purgeIdempotency (olderThan: number): Promise<number> {
    return this.#write(() => this.#idempotency.purge(olderThan))
  }

  // ---- message log (message-log/sqlite.ts) -------------------------------------------------

  appendLog (items: readonly LogAppend[]): Promise<LogEntry[]> { return this.#log.appendLog(items) }
  logTip (): Promise<{ seq: number, hash: string }> { return this.#log.logTip() }
  readLog (range: LogRange): Promise<LogEntry[]> { return this.#log.readLog(range) }
  saveCheckpoint (c: Checkpoint): Promise<void> { return this.#log.saveCheckpoint(c) }
  checkpoints (fromSeq: number, toSeq: number): Promise<Checkpoint[]> { return this.#log.checkpoints(fromSeq, toSeq) }

  async ping (): Promise<boolean> {
    if (this.#closed) return false
    try {
      this.#db.prepare('SELECT 1').get()
      return true
    } catch {
      return false
    }
  }

  async close (): Promise<void> {
    if (this.#closed) return
    // Let queued writes commit before closing.
    while (this.#queue.length > 0 || this.#scheduled || this.#syncing || this.#unsynced.length > 0) await new Promise((resolve) => setImmediate(resolve))
    this.#closed = true
    if (this.#wal?.fd !== undefined) closeSync(this.#wal.fd)
    this.#db.close()
  }
}
