/**
 * Failed credential checks on a shared store: two gateway apps on one real Redis (one key
 * namespace, two instance names), as two instances behind a load balancer.
 */
import t from 'tap'
import { createClient } from 'redis'
import { AttemptLimiter, type AttemptCounter } from '../../gateway/members.js'
import { members, startStack, type Stack } from '../helpers.js'
import { testRedis } from '../redis-server.js'

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`

async function token (s: Stack, id: string, secret: string, address: string): Promise<{ status: number, code?: string, retryAfter?: unknown }> {
  const res = await s.gateway.app.inject({ method: 'POST', url: '/token', remoteAddress: address, headers: { authorization: basic(id, secret), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' })
  return { status: res.statusCode, code: (res.json() as { code?: string }).code, retryAfter: res.headers['retry-after'] }
}

t.test('failures at one instance count at the other; a locked address does not lock the member out from elsewhere', async (t) => {
  const redis = await testRedis(t)
  const a = await startStack(t, { configExtra: { store: { kind: 'redis', redis: { ...redis, instance: 'gw-a' } } } })
  const b = await startStack(t, { configExtra: { store: { kind: 'redis', redis: { ...redis, instance: 'gw-b' } } } })
  const m = members.onestop
  const wrong = 'wrong-secret-000000'

  // Ten failures from one address, alternating between the instances: five at each, the limit (10) reached only together.
  for (let i = 0; i < 10; i++) t.equal((await token(i % 2 === 0 ? a : b, m.id, wrong, '10.5.0.1')).code, 'LGSP_ERR_AUTH_INVALID_CLIENT')
  for (const [name, s] of [['A', a], ['B', b]] as const) {
    const locked = await token(s, m.id, m.secret, '10.5.0.1')
    t.equal(locked.status, 429, `instance ${name} refuses the address, even with the right secret`)
    t.equal(locked.code, 'LGSP_ERR_AUTH_TOO_MANY_ATTEMPTS')
    t.ok(Number(locked.retryAfter) > 0, 'with Retry-After')
  }
  t.equal((await token(b, m.id, m.secret, '10.5.0.2')).status, 200, 'the member from its own address is not locked out at B')
  t.equal((await token(a, m.id, m.secret, '10.5.0.2')).status, 200, 'nor at A')

  // Fifty failures for one id from many addresses, each under its own limit, spread over both instances.
  for (let i = 0; i < 50; i++) await token(i % 2 === 0 ? a : b, members.vertical.id, wrong, `10.6.${Math.floor(i / 5)}.${i % 5}`)
  t.equal((await token(a, members.vertical.id, members.vertical.secret, '10.6.0.1')).status, 429, 'an address that failed for this id (at B) waits at A')
  t.equal((await token(b, members.vertical.id, members.vertical.secret, '10.6.0.0')).status, 429, 'an address that failed for this id (at A) waits at B')
  t.equal((await token(a, members.vertical.id, members.vertical.secret, '10.9.9.9')).status, 200, 'a clean address still gets in at A')
  t.equal((await token(b, members.vertical.id, members.vertical.secret, '10.9.9.8')).status, 200, 'and at B')
  t.equal((await token(b, members.reader.id, members.reader.secret, '10.6.0.0')).status, 200, 'the failing address may still use other members it knows')

  // The counters are Redis keys under the gateway's prefix, each with its window as expiry.
  const client = createClient({ url: redis.url, RESP: 2 })
  await client.connect()
  t.teardown(() => client.close())
  const keys = (await client.sendCommand(['KEYS', `{${redis.namespace}}:att:*`]) as string[]).sort()
  t.ok(keys.includes(`{${redis.namespace}}:att:a:10.5.0.1`) && keys.includes(`{${redis.namespace}}:att:c:${members.vertical.id}`), `counters under the prefix (${keys.length} keys)`)
  t.equal(await client.sendCommand(['GET', `{${redis.namespace}}:att:a:10.5.0.1`]), '10', 'the address counted ten failures, five at each instance')
  for (const k of keys) {
    const ms = Number(await client.sendCommand(['PTTL', k]))
    if (!(ms > 0 && ms <= 60_000)) t.fail(`${k} expires within the window (PTTL ${ms})`)
  }
})

t.test('the limiter is the same over either counter; a shared counter that fails gives way to this process\'s own', async (t) => {
  const limits = { perAddress: 3, perClient: 5, windowMs: 60_000 }
  const now = 1_000_000
  const down: AttemptCounter = {
    peek: async () => { throw new Error('Redis did not answer') },
    add: async () => { throw new Error('Redis did not answer') }
  }
  for (const [name, shared] of [['memory', undefined], ['shared store down', down]] as const) {
    const limiter = new AttemptLimiter(limits, shared)
    for (let i = 0; i < 3; i++) {
      t.equal(await limiter.blockedFor('10.7.0.1', 'x', now), 0, `${name}: failure ${i + 1} not yet refused`)
      await limiter.failed('10.7.0.1', 'x', now)
    }
    t.equal(await limiter.blockedFor('10.7.0.1', 'x', now + 1000), 59, `${name}: the address waits for the rest of its window`)
    t.equal(await limiter.blockedFor('10.7.0.2', 'x', now + 1000), 0, `${name}: another address does not`)
    t.equal(await limiter.blockedFor('10.7.0.1', 'x', now + 60_000), 0, `${name}: the window ends`)
  }
})

t.test('a long member id or address is counted under a digest, not as sent', async (t) => {
  const seen: string[] = []
  const spy: AttemptCounter = {
    peek: async (keys) => { seen.push(...keys); return keys.map(() => ({ n: 0, leftMs: 0 })) },
    add: async (keys) => { seen.push(...keys) }
  }
  const limiter = new AttemptLimiter(undefined, spy)
  await limiter.failed('10.8.0.1', 'x'.repeat(10_000))
  await limiter.blockedFor('y'.repeat(10_000), 'x')
  t.ok(seen.every((k) => k.length <= 64 + 2), `keys ${seen.map((k) => k.length).join(', ')} characters long`)
})
