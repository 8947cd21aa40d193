import t from 'tap'
import { hashSecret, Members } from '../../gateway/members.js'
import { members, startStack, testMemberList, type Stack } from '../helpers.js'

const HASHED = { id: 'hashed-test', secret: 'hashed-test-secret-0' }

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`

async function token (s: Stack, id: string, secret: string, address: string): Promise<{ status: number, code?: string, retryAfter?: unknown }> {
  const res = await s.gateway.app.inject({ method: 'POST', url: '/token', remoteAddress: address, headers: { authorization: basic(id, secret), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' })
  return { status: res.statusCode, code: (res.json() as { code?: string }).code, retryAfter: res.headers['retry-after'] }
}

t.test('failed attempts lock out the address first: an attacker cannot lock a real member out from elsewhere', async (t) => {
  const s = await startStack(t)
  const m = members.onestop
  for (let i = 0; i < 10; i++) t.equal((await token(s, m.id, 'wrong-secret-000000', '10.0.0.1')).code, 'LGSP_ERR_AUTH_INVALID_CLIENT')
  const locked = await token(s, m.id, m.secret, '10.0.0.1')
  t.equal(locked.status, 429, 'the attacking address is refused, even with the right secret')
  t.equal(locked.code, 'LGSP_ERR_AUTH_TOO_MANY_ATTEMPTS')
  t.ok(Number(locked.retryAfter) > 0, 'with Retry-After')
  t.equal((await token(s, m.id, m.secret, '10.0.0.2')).status, 200, 'the member from its own address is not locked out')

  // Many addresses, each under its own limit, against one id: addresses that failed are refused for it; a clean one is not.
  for (let i = 0; i < 50; i++) await token(s, m.id, 'wrong-secret-000000', `10.1.${Math.floor(i / 5)}.${i % 5}`)
  t.equal((await token(s, m.id, m.secret, '10.1.0.0')).status, 429, 'an address that failed for this id waits')
  t.equal((await token(s, m.id, m.secret, '10.9.9.9')).status, 200, 'a clean address still gets in')
  t.equal((await token(s, members.vertical.id, members.vertical.secret, '10.1.0.0')).status, 200, 'and the failing address may still use other members it knows')

  // The lgspaccesstoken exchange and the facade login are counted alike.
  const lgsp = Buffer.from(JSON.stringify({ AccessKey: m.id, SecretKey: 'wrong-secret-000000' })).toString('base64')
  for (let i = 0; i < 10; i++) await s.gateway.app.inject({ method: 'POST', url: '/token', remoteAddress: '10.2.0.1', headers: { lgspaccesstoken: lgsp, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' })
  t.equal((await token(s, m.id, m.secret, '10.2.0.1')).status, 429, 'lgspaccesstoken failures count')
})

t.test('the facade login is rate-limited too', async (t) => {
  const s = await startStack(t, { configExtra: { facade: { enabled: true } } })
  const login = async (password: string): Promise<{ error_code: unknown, code?: string }> => (await s.gateway.app.inject({ method: 'POST', url: '/dvcqg/api/auth', remoteAddress: '10.3.0.1', headers: { 'content-type': 'application/json' }, payload: { username: members.onestop.id, password } })).json()
  for (let i = 0; i < 10; i++) t.equal((await login('wrong-secret-000000')).code, 'LGSP_ERR_AUTH_INVALID_CLIENT')
  t.equal((await login(members.onestop.secret)).code, 'LGSP_ERR_AUTH_TOO_MANY_ATTEMPTS')
})

t.test('unknown ids, plain secrets and hashed secrets take the same time to refuse, off the event loop', async (t) => {
  const list = new Members([
    ...testMemberList().slice(0, 1).map((m) => ({ ...m, enabled: true, messageKinds: [], destinations: [], read: 'own', admin: false, signature: { required: false }, logBodies: true })) as never[],
    { id: HASHED.id, name: 'Hashed', clientSecretHash: hashSecret(HASHED.secret), enabled: true, messageKinds: [], destinations: [], read: 'own', admin: false, signature: { required: false }, logBodies: true }
  ], { perAddress: 1_000, perClient: 1_000, windowMs: 60_000 })
  const refuse = async (id: string): Promise<number> => {
    const start = performance.now()
    await t.rejects(list.authenticate(id, 'wrong-secret-000000', '10.4.0.1'), { code: 'LGSP_ERR_AUTH_INVALID_CLIENT' })
    return performance.now() - start
  }
  const median = async (id: string): Promise<number> => {
    const xs: number[] = []
    for (let i = 0; i < 7; i++) xs.push(await refuse(id))
    return xs.sort((a, b) => a - b)[3]!
  }
  await refuse('nobody')
  const unknown = await median('nobody')
  const hashed = await median(HASHED.id)
  const plain = await median(members.onestop.id)
  t.ok(unknown / hashed > 0.5 && unknown / hashed < 2, `unknown/hashed ${(unknown / hashed).toFixed(2)}`)
  t.ok(plain / hashed > 0.5 && plain / hashed < 2, `plain/hashed ${(plain / hashed).toFixed(2)}`)

  // While a check runs, the event loop keeps turning.
  let turns = 0
  let running = true
  const spin = (): void => { if (running) { turns++; setImmediate(spin) } }
  setImmediate(spin)
  await list.authenticate(HASHED.id, HASHED.secret, '10.4.0.2')
  running = false
  t.ok(turns > 1, `the event loop turned ${turns} times during one scrypt`)
})
