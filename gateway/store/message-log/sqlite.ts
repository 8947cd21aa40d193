/**
 * The message log on SQLite: the chained entries (crypto/message-log.ts), the protected JWS
 * headers kept once, and the signed checkpoints. Writes run inside the store's group commit
 * (sqlite.ts #write), so an accept's inbound entry commits with its ledger change.
 */
import type Database from 'better-sqlite3'
import { chain, GENESIS, type Checkpoint, type LogAppend, type LogEntry } from '../../crypto/message-log.js'
import { restoreSignature, shortenSignature } from './jws-headers.js'
import type { LogRange, MessageLogStore } from './types.js'

/** Queues a write for the store's next group commit. */
export type Write = <T>(run: () => T) => Promise<T>

export const messageLogSchema = `
-- version 6: the tamper-evident message log (replaces the plain messages table)
CREATE TABLE IF NOT EXISTS message_log (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  direction TEXT NOT NULL,        -- in | out
  party TEXT NOT NULL,
  kind TEXT NOT NULL,
  message_id TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  body TEXT,                      -- NULL: kept as a digest only
  signature TEXT,                 -- a JWS; '~<sha256 of its header>..' when the header is in jws_headers
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS message_log_at ON message_log (at);
-- A member sends the same protected header (with its certificate chain, ~3 KB) on every request: kept once, referenced by hash.
CREATE TABLE IF NOT EXISTS jws_headers (
  hash TEXT PRIMARY KEY,
  header TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS log_checkpoints (
  seq INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  at INTEGER NOT NULL,
  signature TEXT NOT NULL
);
`

interface LogRecord {
  seq: number
  at: number
  direction: 'in' | 'out'
  party: string
  kind: string
  message_id: string
  content_hash: string
  body: string | null
  signature: string | null
  prev_hash: string
  hash: string
}

const toLogEntry = (r: LogRecord, header: (hash: string) => string | undefined): LogEntry => ({
  seq: r.seq, at: r.at, direction: r.direction, party: r.party, kind: r.kind, messageId: r.message_id, contentHash: r.content_hash,
  body: r.body, signature: restoreSignature(r.signature, header), prevHash: r.prev_hash, hash: r.hash
})

const statements = (db: Database.Database) => ({
  logPut: db.prepare(`INSERT INTO message_log (seq, at, direction, party, kind, message_id, content_hash, body, signature, prev_hash, hash)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
  headerPut: db.prepare('INSERT OR IGNORE INTO jws_headers (hash, header) VALUES (?, ?)'),
  headerGet: db.prepare<[string], { header: string }>('SELECT header FROM jws_headers WHERE hash = ?'),
  logTip: db.prepare<[], { seq: number, hash: string }>('SELECT seq, hash FROM message_log ORDER BY seq DESC LIMIT 1'),
  logRange: db.prepare<{ fromSeq: number, toSeq: number, fromAt: number, toAt: number }, LogRecord>(
    'SELECT * FROM message_log WHERE seq BETWEEN @fromSeq AND @toSeq AND at BETWEEN @fromAt AND @toAt ORDER BY seq'),
  // No index on message_id: it would cost every accept for an operator's occasional look-up.
  logOfMessage: db.prepare<[string], LogRecord>('SELECT * FROM message_log WHERE message_id = ? ORDER BY seq'),
  checkpointPut: db.prepare('INSERT OR REPLACE INTO log_checkpoints (seq, hash, at, signature) VALUES (?, ?, ?, ?)'),
  checkpointRange: db.prepare<[number, number], Checkpoint>('SELECT seq, hash, at, signature FROM log_checkpoints WHERE seq BETWEEN ? AND ? ORDER BY seq')
})

export class SqliteMessageLog implements MessageLogStore {
  readonly #db: Database.Database
  readonly #write: Write
  readonly #statements: ReturnType<typeof statements>
  /**
   * The log's last entry, read once per group commit inside its write lock (the operator
   * commands may have appended from another process) and advanced by each append.
   */
  #tip = { seq: 0, hash: GENESIS }
  #tipRead = false
  /** Protected headers known to be in jws_headers. */
  readonly #headers = new Set<string>()

  /** After the schema exists (messageLogSchema). */
  constructor (db: Database.Database, write: Write) {
    this.#db = db
    this.#write = write
    this.#statements = statements(db)
  }

  /** A group commit starts: the tip is read again inside its lock. */
  beginBatch (): void {
    this.#tipRead = false
  }

  /** A group commit rolled back: nothing it wrote is durable, not even the headers it stored. */
  rolledBack (): void {
    this.#headers.clear()
  }

  /** Appends to the log; call inside a write transaction. */
  append (items: readonly LogAppend[]): LogEntry[] {
    if (!this.#tipRead) {
      this.#tip = this.#statements.logTip.get() ?? { seq: 0, hash: GENESIS }
      this.#tipRead = true
    }
    const entries = chain(this.#tip, items)
    for (const e of entries) this.#statements.logPut.run(e.seq, e.at, e.direction, e.party, e.kind, e.messageId, e.contentHash, e.body, this.#storedSignature(e.signature), e.prevHash, e.hash)
    if (entries.length > 0) this.#tip = { seq: entries[entries.length - 1]!.seq, hash: entries[entries.length - 1]!.hash }
    return entries
  }

  /** A JWS as stored: a long protected header is replaced by a reference to its single copy. */
  #storedSignature (signature: string | null): string | null {
    const { stored, header } = shortenSignature(signature)
    if (header !== undefined && !this.#headers.has(header.text)) {
      // Inside the transaction: if it rolls back, the next use inserts the header again.
      this.#statements.headerPut.run(header.hash, header.text)
      if (this.#headers.size >= 1024) this.#headers.clear()
      this.#headers.add(header.text)
    }
    return stored
  }

  /** Version 5 kept inbound bodies in a plain table: they enter the chained log in the order they came. */
  migrateMessages (): void {
    const rows = this.#db.prepare<[], { id: string, received_at: number, sender: string, kind: string, content_hash: string, body: string }>(
      'SELECT * FROM messages ORDER BY received_at, id').all()
    this.#tipRead = false
    this.#db.transaction(() => {
      this.append(rows.map((r) => ({ at: r.received_at, direction: 'in', party: r.sender, kind: r.kind, messageId: r.id, contentHash: r.content_hash, body: r.body, signature: null })))
      this.#db.exec('DROP TABLE messages')
    })()
  }

  appendLog (items: readonly LogAppend[]): Promise<LogEntry[]> {
    return this.#write(() => this.append(items))
  }

  async logTip (): Promise<{ seq: number, hash: string }> {
    // The committed tip: a write still queued has not advanced it.
    return this.#statements.logTip.get() ?? { seq: 0, hash: GENESIS }
  }

  async readLog (range: LogRange): Promise<LogEntry[]> {
    const header = (hash: string): string | undefined => this.#statements.headerGet.get(hash)?.header
    if (range.messageId !== undefined) return this.#statements.logOfMessage.all(range.messageId).map((r) => toLogEntry(r, header))
    return this.#statements.logRange.all({
      fromSeq: range.fromSeq ?? 0, toSeq: range.toSeq ?? Number.MAX_SAFE_INTEGER, fromAt: range.fromAt ?? 0, toAt: range.toAt ?? Number.MAX_SAFE_INTEGER
    }).map((r) => toLogEntry(r, header))
  }

  saveCheckpoint (c: Checkpoint): Promise<void> {
    return this.#write(() => { this.#statements.checkpointPut.run(c.seq, c.hash, c.at, c.signature) })
  }

  async checkpoints (fromSeq: number, toSeq: number): Promise<Checkpoint[]> {
    return this.#statements.checkpointRange.all(fromSeq, toSeq)
  }
}
