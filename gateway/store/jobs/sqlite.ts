/**
 * Jobs on SQLite: the pollers' resume points. One process uses this store, so it keeps no
 * leases (every job runs here) and no shared credential-attempt counter (members.ts counts in
 * memory). A delivery's effect may set a cursor inside the completion's transaction (putCursor).
 */
import type Database from 'better-sqlite3'
import type { JobStore } from './types.js'

/** Queues a write for the store's next group commit. */
export type Write = <T>(run: () => T) => Promise<T>

export const cursorsSchema = `
-- version 3: pollers of vertical systems
CREATE TABLE IF NOT EXISTS cursors (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
`

export class SqliteJobs implements JobStore {
  readonly #write: Write
  readonly #statements

  constructor (db: Database.Database, write: Write) {
    this.#write = write
    this.#statements = {
      cursorGet: db.prepare<[string], { value: string }>('SELECT value FROM cursors WHERE key = ?'),
      cursorPut: db.prepare('INSERT INTO cursors (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
    }
  }

  async getCursor (key: string): Promise<string | undefined> {
    return this.#statements.cursorGet.get(key)?.value
  }

  setCursor (key: string, value: string): Promise<void> {
    return this.#write(() => { this.putCursor(key, value, Date.now()) })
  }

  /** Sets a cursor inside the caller's transaction (a delivery effect, with its completion). */
  putCursor (key: string, value: string, at: number): void {
    this.#statements.cursorPut.run(key, value, at)
  }
}
