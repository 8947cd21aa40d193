/**
 * The Redis store persists what the TypeScript rules decide (gateway/store/rules/): its Lua
 * scripts keep no rule of their own. For each step of a payment, the sorted sets and keys
 * PAY_SET keeps are those rules/payments.ts paymentIndexes names; a key two instances use at
 * once gets the verdict of rules/idempotency.ts.
 */
import t, { type Test } from 'tap'
import { createClient } from 'redis'
import { RedisStore, type RedisStoreOptions } from '../../gateway/store/redis/index.js'
import { paymentIndexes } from '../../gateway/store/rules/payments.js'
import type { NewPayment } from '../../gateway/store/types.js'
import { testRedis } from '../redis-server.js'
import { acceptOf } from './contract.js'

async function open (t: Test, where: { url: string, namespace: string }, instance: string): Promise<RedisStore> {
  const options: RedisStoreOptions = { ...where, instance, partitions: 2, leaseMs: 2000, claimTimeoutMs: 60_000, idempotencyMs: 3600_000, connectTimeoutMs: 2000 }
  const store = new RedisStore(options)
  t.teardown(() => store.close())
  await store.init()
  return store
}

t.test('each step of a payment leaves it in the indexes the rule names', async (t) => {
  const where = await testRedis(t)
  const store = await open(t, where, 'test-1')
  const redis = createClient({ url: where.url, RESP: 2 })
  await redis.connect()
  t.teardown(() => redis.close())
  const p = `{${where.namespace}}:`
  const now = Date.now()
  const payment: NewPayment = {
    reference: 'REF1', maHoSo: 'H1', maTTHC: 'T', maDonVi: 'D', amount: 100, currency: '704', fees: [{ TenPhiLePhi: 'fee', Gia: 100 }],
    sender: 's', createdAt: now, idempotencyKey: 's:k1', contentHash: 'c1'
  }
  const check = async (step: string): Promise<void> => {
    const stored = (await store.getPayment('REF1'))!
    const want = paymentIndexes(stored)
    t.same({
      open: await redis.zScore(`${p}pay:open`, 'REF1') !== null,
      paid: await redis.get(`${p}paid:H1`) === 'REF1',
      awaitingEffect: await redis.zScore(`${p}pay:noeffect`, 'REF1') !== null
    }, want, `${step}: ${stored.status}`)
  }
  await store.createPayment(payment)
  await check('recorded')
  await store.setPaymentInit('REF1', { error: 'down' }, now + 1)
  await check('INIT failed')
  await store.setPaymentInit('REF1', { url: 'https://pay/REF1' }, now + 2)
  await check('INIT again')
  await store.markQueried('REF1', now + 3)
  await check('queried')
  const result = { reference: 'REF1', transactionCode: 'T1', bank: null, resultAt: now, source: 'callback' as const, at: now + 4 }
  await store.applyPaymentResult({ ...result, success: false })
  await check('failed')
  await store.applyPaymentResult({ ...result, success: true })
  await check('paid')
  await store.applyPaymentResult({ ...result, success: false, transactionCode: 'T2' })
  await check('a late failure')
  await store.setPaymentEffect('REF1', 'msg-1')
  await check('effect recorded')
})

t.test('two instances use one key at once: the first reply for the same content, a refusal for other content', async (t) => {
  const where = await testRedis(t)
  const a = await open(t, where, 'a')
  const b = await open(t, where, 'b')
  // Whether the second finds the key taken at its read or at its COMMIT (scripts.ts answers 'replay' with what the key holds), the verdict is the TS rule's.
  const same = acceptOf(1, { key: 'shared-key' })
  const [ra, rb] = await Promise.all([a.accept(same), b.accept({ ...acceptOf(1, { key: 'shared-key' }), contentHash: same.contentHash })])
  t.same([ra.replayed, rb.replayed].sort(), [false, true], 'one wrote, the other replays')
  t.same(rb.reply.messageId, ra.reply.messageId, 'with the first reply')
  const other = acceptOf(2, { key: 'other-key' })
  const results = await Promise.allSettled([a.accept(other), b.accept({ ...acceptOf(2, { key: 'other-key' }), contentHash: 'different' })])
  t.same(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'])
  t.match(results.find((r) => r.status === 'rejected'), { reason: { code: 'LGSP_ERR_IDEMPOTENCY_KEY_REUSED' } })
})
