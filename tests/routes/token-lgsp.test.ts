import t from 'tap'
import { hashSecret, Members } from '../../gateway/members.js'
import { parseLgspAccessToken } from '../../gateway/plugins/auth.js'
import { hoso, members, startStack, testMemberList } from '../helpers.js'

/** The header as provincial clients build it: base64 of {AccessKey, SecretKey, AppName, PartnerCode}. */
const header = (fields: unknown): string => Buffer.from(JSON.stringify(fields)).toString('base64')
const lgsp = (m: { id: string, secret: string }): string => header({ AccessKey: m.id, SecretKey: m.secret, AppName: 'motcua', PartnerCode: '000.00.00.H56' })

t.test('POST /token exchanges a lgspaccesstoken header for the usual OAuth2 bearer reply', async (t) => {
  const s = await startStack(t)
  const res = await s.gateway.app.inject({ method: 'POST', url: '/token', headers: { lgspaccesstoken: lgsp(members.onestop), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json() as { access_token: string, token_type: string, expires_in: number }
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type'], 'the shape Basic credentials get')
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, s.config.auth.tokenTtlSeconds)
  const post = await s.gateway.app.inject({ method: 'POST', url: '/v1/dossiers', headers: { authorization: `Bearer ${body.access_token}`, 'content-type': 'application/json' }, payload: JSON.stringify(hoso(1)) })
  t.equal(post.statusCode, 202)

  // Without grant_type the header alone still means client credentials; another grant does not.
  const bare = await s.gateway.app.inject({ method: 'POST', url: '/token', headers: { lgspaccesstoken: lgsp(members.onestop) } })
  t.equal(bare.statusCode, 200)
  const other = await s.gateway.app.inject({ method: 'POST', url: '/token', headers: { lgspaccesstoken: lgsp(members.onestop), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=password' })
  t.equal(other.statusCode, 400)
  t.equal(other.json().code, 'LGSP_ERR_AUTH_UNSUPPORTED_GRANT')
})

t.test('POST /token refuses a malformed or wrong lgspaccesstoken with a stable code', async (t) => {
  const s = await startStack(t)
  const token = async (value: string): Promise<{ status: number, code: string, type: unknown }> => {
    const res = await s.gateway.app.inject({ method: 'POST', url: '/token', headers: { lgspaccesstoken: value, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' })
    return { status: res.statusCode, code: (res.json() as { code: string }).code, type: res.headers['content-type'] }
  }
  for (const [what, value] of [
    ['not base64', 'AccessKey=onestop'],
    ['base64 of text', Buffer.from('hello').toString('base64')],
    ['a JSON array', header(['onestop-test'])],
    ['no SecretKey', header({ AccessKey: members.onestop.id, AppName: 'x' })],
    ['an empty AccessKey', header({ AccessKey: '', SecretKey: members.onestop.secret })]
  ] as const) {
    const r = await token(value)
    t.same([r.status, r.code], [401, 'LGSP_ERR_AUTH_LGSP_TOKEN_MALFORMED'], what)
    t.match(r.type, /application\/problem\+json/)
  }
  t.same(await token(lgsp({ id: members.onestop.id, secret: 'wrong-secret-0000000' })).then((r) => [r.status, r.code]), [401, 'LGSP_ERR_AUTH_INVALID_CLIENT'])
  t.same(await token(lgsp(members.disabled)).then((r) => [r.status, r.code]), [403, 'LGSP_ERR_AUTH_MEMBER_DISABLED'])
})

t.test('/v1 routes take the lgspaccesstoken header in place of a bearer token', async (t) => {
  const hashed = { id: 'hashed-test', secret: 'hashed-test-secret-0' }
  const s = await startStack(t, { configExtra: { members: [...testMemberList(), { id: hashed.id, name: 'Hashed (test)', clientSecretHash: hashSecret(hashed.secret), messageKinds: ['dossier'], destinations: ['dvcqg'], read: 'own' }] } })
  const v1 = async (method: 'GET' | 'POST', url: string, value: string, body?: unknown): Promise<{ status: number, code?: string }> => {
    const res = await s.gateway.app.inject({ method, url, headers: { lgspaccesstoken: value, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) })
    return { status: res.statusCode, code: (res.json() as { code?: string }).code }
  }
  const record = hoso(10)
  t.equal((await v1('POST', '/v1/dossiers', lgsp(members.onestop), record)).status, 202)
  t.equal((await v1('GET', `/v1/dossiers/${record.MaHoSo}`, lgsp(members.onestop))).status, 200)
  // A hashed secret, twice: the second call is served from the remembered check, with the same answer.
  const h = hoso(11)
  t.equal((await v1('POST', '/v1/dossiers', lgsp(hashed), h)).status, 202)
  t.equal((await v1('GET', `/v1/dossiers/${h.MaHoSo}`, lgsp(hashed))).status, 200)
  t.same(await v1('GET', `/v1/dossiers/${h.MaHoSo}`, lgsp({ id: hashed.id, secret: 'wrong-secret-0000000' })), { status: 401, code: 'LGSP_ERR_AUTH_INVALID_CLIENT' }, 'a remembered success does not let another secret in')
  t.same(await v1('GET', `/v1/dossiers/${h.MaHoSo}`, 'x!y'), { status: 401, code: 'LGSP_ERR_AUTH_LGSP_TOKEN_MALFORMED' })
  // The member's rules apply as with a bearer token.
  t.same(await v1('GET', `/v1/dossiers/${record.MaHoSo}`, lgsp(hashed)), { status: 403, code: 'LGSP_ERR_AUTH_READ_FORBIDDEN' })
  // Authorization wins when both are sent: a bad bearer is not rescued by the header.
  const both = await s.gateway.app.inject({ method: 'GET', url: `/v1/dossiers/${record.MaHoSo}`, headers: { authorization: 'Bearer nope', lgspaccesstoken: lgsp(members.onestop) } })
  t.equal(both.statusCode, 401)
  t.equal((await s.gateway.app.inject({ method: 'GET', url: `/v1/dossiers/${record.MaHoSo}` })).json().code, 'LGSP_ERR_AUTH_MISSING_TOKEN')
})

t.test('a remembered credential check still reads the member\'s rights and expires', async (t) => {
  const hashed = { id: 'hashed-test', secret: 'hashed-test-secret-0' }
  const entry = { id: hashed.id, name: 'Hashed', clientSecretHash: hashSecret(hashed.secret), enabled: true, messageKinds: [], destinations: [], read: 'own' as const, admin: false, signature: { required: false }, logBodies: true }
  const list = new Members([entry])
  const now = Date.now()
  t.equal((await list.authenticateRemembered(hashed.id, hashed.secret, 60_000, now)).id, hashed.id)
  await t.rejects(list.authenticateRemembered(hashed.id, 'another-secret-00000', 60_000, now), { code: 'LGSP_ERR_AUTH_INVALID_CLIENT' })
  entry.enabled = false
  await t.rejects(list.authenticateRemembered(hashed.id, hashed.secret, 60_000, now + 1), { code: 'LGSP_ERR_AUTH_MEMBER_DISABLED' }, 'disabling takes effect at once')
  entry.enabled = true
  t.equal((await list.authenticateRemembered(hashed.id, hashed.secret, 60_000, now + 120_000)).id, hashed.id, 'checked again after its lifetime')
})

t.test('parseLgspAccessToken takes both base64 alphabets and keeps AppName and PartnerCode', async (t) => {
  const fields = { AccessKey: 'onestop-test', SecretKey: 'a?b>c~d', AppName: 'Một cửa', PartnerCode: 'HG' }
  const std = Buffer.from(JSON.stringify(fields)).toString('base64')
  const url = Buffer.from(JSON.stringify(fields)).toString('base64url')
  t.same(parseLgspAccessToken(std), fields)
  t.same(parseLgspAccessToken(url), fields)
  t.throws(() => parseLgspAccessToken([std, std]), { code: 'LGSP_ERR_AUTH_LGSP_TOKEN_MALFORMED' })
  t.throws(() => parseLgspAccessToken('A'.repeat(5000)), { code: 'LGSP_ERR_AUTH_LGSP_TOKEN_MALFORMED' })
})
