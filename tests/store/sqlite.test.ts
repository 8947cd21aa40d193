import { join } from 'node:path'
import t from 'tap'
import { SqliteStore } from '../../gateway/store/sqlite.js'
import { tempDir } from '../helpers.js'
import { storeContract } from './contract.js'

const paths = new WeakMap<object, string>()

storeContract(t, 'sqlite', {
  open: async (t) => {
    const path = join(tempDir(t), 'lgsp.db')
    const store = new SqliteStore({ path, synchronous: 'full' })
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
