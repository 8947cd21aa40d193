import t, { type Test } from 'tap'
import { RedisStore, type RedisStoreOptions } from '../../gateway/store/redis/index.js'
import { testRedis } from '../redis-server.js'
import { storeContract } from './contract.js'

const settings = new WeakMap<object, RedisStoreOptions>()

export async function openRedisStore (t: Test, overrides: Partial<RedisStoreOptions> = {}): Promise<RedisStore> {
  const { url, namespace } = await testRedis(t)
  const options: RedisStoreOptions = {
    url, namespace, instance: 'test-1', partitions: 4, leaseMs: 2000, claimTimeoutMs: 60_000, idempotencyMs: 3600_000, connectTimeoutMs: 2000, ...overrides
  }
  const store = new RedisStore(options)
  await store.init()
  settings.set(store, options)
  t.teardown(() => store.close())
  return store
}

storeContract(t, 'redis', {
  open: async (t) => await openRedisStore(t),
  reopen: async (t, store) => {
    const options = settings.get(store)!
    await store.close()
    const again = new RedisStore(options)
    await again.init()
    t.teardown(() => again.close())
    return again
  }
})
