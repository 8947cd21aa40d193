import t, { type Test } from 'tap'
import { RedisStore, type RedisStoreOptions } from '../../gateway/store/redis/index.js'
import { verifyLog } from '../../gateway/crypto/message-log.js'
import { freePort } from '../../adapters/simulator-kit.js'
import { RedisServer, RedisTopology, testRedis } from '../redis-server.js'
import { waitFor } from '../helpers.js'
import { Periodic } from '../../gateway/periodic.js'
import { createLogger } from '../../gateway/logger.js'
import { acceptOf, real, storeContract, type StoreFactory } from './contract.js'

const settings = new WeakMap<object, RedisStoreOptions>()

/** The tests' settings; `overrides` first say where Redis is. */
const testOptions = (overrides: Partial<RedisStoreOptions> & Pick<RedisStoreOptions, 'url' | 'namespace'>): RedisStoreOptions =>
  ({ instance: 'test-1', partitions: 4, leaseMs: 2000, claimTimeoutMs: 60_000, idempotencyMs: 3600_000, connectTimeoutMs: 2000, ...overrides })

async function openRedisStore (t: Test, overrides: Partial<RedisStoreOptions> = {}): Promise<RedisStore> {
  const options = testOptions({ ...await testRedis(t), ...overrides })
  const store = new RedisStore(options)
  t.teardown(() => store.close())
  await store.init()
  settings.set(store, options)
  return store
}

/** Stores on one Redis deployment: `where` says how to reach it (default: the test server). */
const factory = (where: Partial<RedisStoreOptions> = {}): StoreFactory => ({
  open: async (t, options = {}) => await openRedisStore(t, { ...where, ...options }),
  reopen: async (t, store) => {
    const options = settings.get(store)!
    await store.close()
    const again = new RedisStore(options)
    t.teardown(() => again.close())
    await again.init()
    return again
  }
})

storeContract(t, 'redis', factory())

t.test('an unreachable Redis: start-up fails at once, saying where and what to set', async (t) => {
  const store = new RedisStore(testOptions({ url: `redis://127.0.0.1:${await freePort()}`, namespace: 'none', instance: 'x', idempotencyMs: 1000, connectTimeoutMs: 1000 }))
  const started = Date.now()
  await t.rejects(store.init(), { code: 'LGSP_ERR_CONFIG_INVALID', message: /Redis at redis:\/\/127\.0\.0\.1:\d+, which cannot be reached.*LGSP_REDIS_URL/ })
  t.ok(Date.now() - started < 5000, 'without waiting for retries')
  await store.close()
})

t.test('Redis goes away and comes back: the store says so, refuses with 503 meanwhile, and recovers by itself', async (t) => {
  const server = new RedisServer()
  await server.start()
  t.teardown(() => server.stop())
  const store = await openRedisStore(t, { url: server.url })
  await store.accept(real(acceptOf(1)))
  await server.kill()
  t.equal(await store.ping(), false, 'not answering')
  await t.rejects(store.accept(real(acceptOf(2))), { code: 'LGSP_ERR_SERVER_UNAVAILABLE' })
  await server.start()
  await waitFor('reconnected', () => store.ping())
  t.equal((await store.accept(real(acceptOf(3)))).replayed, false, 'accepts again')
  t.equal((await store.readLog({})).length, 2, 'the log chain goes on: the refused accept left nothing')
  t.same(verifyLog(await store.readLog({}), [], []).problems, [])
})

t.test('an instance name held by a running instance is refused', async (t) => {
  const first = await openRedisStore(t, { instance: 'same', leaseMs: 600 })
  const { url } = await testRedis(t)
  const second = new RedisStore(testOptions({ url, namespace: first.namespace, instance: 'same', leaseMs: 600, idempotencyMs: 1000, connectTimeoutMs: 1000 }))
  await t.rejects(second.init(), { code: 'LGSP_ERR_CONFIG_INVALID', message: /instance name "same"/ })
  await second.close()
})

t.test('two instances: partitions are shared out, each keeps its own log chain, and a dossier stays in order across them', async (t) => {
  const a = await openRedisStore(t, { instance: 'a' })
  const b = await openRedisStore(t, { instance: 'b', namespace: a.namespace })
  // Both register; a first claim takes what is free, the next lease round shares out.
  await a.claim('dvcqg', 1, Date.now())
  await b.claim('dvcqg', 1, Date.now())
  const first = await a.accept(real(acceptOf(70, { units: 1 })))
  const second = await b.accept(real(acceptOf(70, { status: '4' })))
  t.equal(first.replayed || second.replayed, false)
  const units: number[] = []
  for (let i = 0; i < 20 && units.length < 2; i++) {
    for (const s of [a, b]) {
      for (const item of await s.claim('dvcqg', 10, Date.now() + 60_000)) {
        units.push(item.id)
        await s.complete([{ id: item.id, outcome: 'delivered' }])
      }
    }
  }
  t.equal(units.length, 2, 'both units delivered')
  t.ok(units[0]! < units[1]!, 'in the order they were accepted')
  t.same(await a.chains(), ['a', 'b'])
  for (const name of ['a', 'b']) t.same(verifyLog(await a.readChain(name, {}), [], []).problems, [], `chain ${name} verifies`)
})

// The same contract through Redis Cluster and through Sentinel, with the clients the config builds.
for (const kind of ['cluster', 'sentinel'] as const) {
  t.test(`through Redis ${kind === 'cluster' ? 'Cluster (three masters)' : 'Sentinel'}`, async (t) => {
    const topology = new RedisTopology()
    t.teardown(() => topology.stop())
    const where: Partial<RedisStoreOptions> = kind === 'cluster' ? { cluster: { nodes: await topology.cluster() } } : { sentinel: { name: 'lgsp-master', nodes: [await topology.sentinel('lgsp-master')] } }
    storeContract(t, `redis ${kind}`, factory(where))
  })
}

t.test('a job that must run once: only the lease holder runs it, and another takes over when the holder stops', async (t) => {
  const a = await openRedisStore(t, { instance: 'a' })
  const b = await openRedisStore(t, { instance: 'b', namespace: a.namespace })
  const log = createLogger('silent')
  const runs = { a: 0, b: 0 }
  const pa = new Periodic('poll', 20, async () => { runs.a++ }, log, { store: a, name: 'poll:gplx' })
  const pb = new Periodic('poll', 20, async () => { runs.b++ }, log, { store: b, name: 'poll:gplx' })
  pa.start()
  await waitFor('a runs', () => runs.a > 0)
  pb.start()
  // Both timers tick every 20 ms: while the holder runs five more passes, the other tries as often.
  const started = runs.a
  await waitFor('the holder runs five more passes', () => runs.a >= started + 5)
  t.ok(runs.a >= 5, `the holder runs every pass (${runs.a})`)
  t.equal(runs.b, 0, 'the other instance does not')
  await pa.stop()
  // The lease outlives a few passes (at least 30 s by default), so b waits for it to expire: shorten it here.
  await a.lease('poll:gplx', 1)
  await waitFor('b takes over', () => runs.b > 0, 5000)
  await pb.stop()
  t.pass(`b took over after a stopped (${runs.b} passes)`)
})
