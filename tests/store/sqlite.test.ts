import { join } from 'node:path'
import t from 'tap'
import Database from 'better-sqlite3'
import { sha256Hex, verifyLog } from '../../gateway/crypto/message-log.js'
import { SqliteStore } from '../../gateway/store/sqlite.js'
import { tempDir } from '../helpers.js'
import { storeContract } from './contract.js'

const paths = new WeakMap<object, string>()

storeContract(t, 'sqlite', {
  open: async (t, options = {}) => {
    const path = join(tempDir(t), 'lgsp.db')
    const store = new SqliteStore({ path, synchronous: 'full', ...options })
    await store.init()
    paths.set(store, path)
    t.teardown(() => store.close())
    return store
  },
  reopen: async (t, store) => {
    const path = paths.get(store)!
    await store.close()
    const again = new SqliteStore({ path, synchronous: 'full' })
    await again.init()
    t.teardown(() => again.close())
    return again
  }
})

t.test('a version 5 database: its plain message table enters the chained log in arrival order', async (t) => {
  const path = join(tempDir(t), 'old.db')
  const db = new Database(path)
  db.exec(`CREATE TABLE messages (id TEXT PRIMARY KEY, received_at INTEGER NOT NULL, sender TEXT NOT NULL, kind TEXT NOT NULL, content_hash TEXT NOT NULL, body TEXT NOT NULL);
    PRAGMA user_version = 5;`)
  const put = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)')
  for (const [id, at] of [['b', 2], ['a', 1], ['c', 3]] as const) put.run(id, at, 'onestop-test', 'dossier', sha256Hex(`body ${id}`), `body ${id}`)
  db.close()
  const store = new SqliteStore({ path, synchronous: 'full' })
  await store.init()
  t.teardown(() => store.close())
  const log = await store.readLog({})
  t.same(log.map((e) => [e.seq, e.messageId]), [[1, 'a'], [2, 'b'], [3, 'c']])
  t.same(verifyLog(log, [], []).problems, [])
  const check = new Database(path, { readonly: true })
  t.equal((check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'messages'").get() as { n: number }).n, 0, 'the old table is gone')
  t.equal(check.pragma('user_version', { simple: true }), 6)
  check.close()
})
