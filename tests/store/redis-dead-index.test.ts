/**
 * The Redis store's dead-letter indexes (by destination, code, both) for dead letters an older
 * gateway left: it kept only the `dead` sorted set. The first start of this version indexes
 * them once, so paging by destination or code finds them.
 */
import t from 'tap'
import { createClient } from 'redis'
import { RedisStore, type RedisStoreOptions } from '../../gateway/store/redis/index.js'
import { testRedis } from '../redis-server.js'
import { acceptOf } from './contract.js'

t.test('dead letters left by an older gateway are indexed once at start', async (t) => {
  const where = await testRedis(t)
  const options: RedisStoreOptions = { ...where, instance: 'test-1', partitions: 2, leaseMs: 2000, claimTimeoutMs: 60_000, idempotencyMs: 3600_000, connectTimeoutMs: 2000 }
  const first = new RedisStore(options)
  await first.init()
  await first.accept(acceptOf(90, { destinations: ['dvcqg', 'onestop'] }))
  for (const d of ['dvcqg', 'onestop']) {
    const claimed = await first.claim(d, 10, Date.now())
    await first.complete(claimed.map((u) => ({ id: u.id, outcome: 'dead' as const, code: 'LGSP_ERR_UPSTREAM_REJECTED' as const, error: 'no' })))
  }
  await first.close()
  // What an older gateway leaves: the `dead` set only.
  const redis = createClient({ url: where.url, RESP: 2 })
  await redis.connect()
  t.teardown(() => redis.close())
  const p = `{${where.namespace}}:`
  const indexes = [...await redis.keys(`${p}dead?:*`), ...await redis.keys(`${p}deaddc:*`)]
  t.equal(indexes.length, 5, 'this version wrote the indexes: two destinations, one code, two pairs')
  await redis.del(indexes)
  await redis.hDel(`${p}meta`, 'deadidx')
  t.equal(await redis.zCard(`${p}dead`), 2)

  const again = new RedisStore(options)
  await again.init()
  t.teardown(() => again.close())
  t.equal((await again.listDead({ destination: 'onestop' })).length, 1)
  t.equal((await again.listDead({ code: 'LGSP_ERR_UPSTREAM_REJECTED' })).length, 2)
  t.equal((await again.listDead({ destination: 'dvcqg', code: 'LGSP_ERR_UPSTREAM_REJECTED' })).length, 1)
  t.equal(await redis.hGet(`${p}meta`, 'deadidx'), '1', 'once: marked done')
})
