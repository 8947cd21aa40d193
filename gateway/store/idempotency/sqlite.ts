/**
 * Idempotency keys on SQLite: what each key holds (the hash a repeat must match and the first
 * reply), read and written inside the accept's transaction, and purged on the retention
 * horizon. The verdict itself is rules/idempotency.ts.
 */
import type Database from 'better-sqlite3'
import type { IdempotencyRecord } from '../rules/idempotency.js'
import type { AcceptReply } from '../types.js'

export const idempotencySchema = `
CREATE TABLE IF NOT EXISTS idempotency (
  key TEXT PRIMARY KEY,
  content_hash TEXT NOT NULL,
  reply TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency (created_at);
`

const statements = (db: Database.Database) => ({
  get: db.prepare<[string], { content_hash: string, reply: string }>('SELECT content_hash, reply FROM idempotency WHERE key = ?'),
  put: db.prepare('INSERT INTO idempotency (key, content_hash, reply, created_at) VALUES (?, ?, ?, ?)'),
  purge: db.prepare('DELETE FROM idempotency WHERE created_at < ?')
})

export class SqliteIdempotency {
  readonly #statements: ReturnType<typeof statements>

  /** After the schema exists (idempotencySchema). */
  constructor (db: Database.Database) {
    this.#statements = statements(db)
  }

  /** What the key holds, if it was used; inside the caller's transaction. */
  seen (key: string): IdempotencyRecord<AcceptReply> | undefined {
    const r = this.#statements.get.get(key)
    return r === undefined ? undefined : { hash: r.content_hash, reply: JSON.parse(r.reply) as AcceptReply }
  }

  /** Keeps the key's hash and first reply; inside the caller's transaction. */
  remember (key: string, hash: string, reply: AcceptReply, at: number): void {
    this.#statements.put.run(key, hash, JSON.stringify(reply), at)
  }

  /** Deletes the records older than the horizon (inside a write); returns how many. */
  purge (olderThan: number): number {
    return this.#statements.purge.run(olderThan).changes
  }
}
