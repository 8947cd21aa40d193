/**
 * The console's session, CSRF and masking rules, through the HTTP app (no browser).
 */
import t from 'tap'
import { CITIZEN_ID, hoso, members, startStack, waitFor } from '../helpers.js'
import { maskForConsole } from '../../gateway/routes/console.js'

const login = async (s: Awaited<ReturnType<typeof startStack>>, who: { id: string, secret: string }, headers: Record<string, string> = {}) =>
  s.gateway.app.inject({ method: 'POST', url: '/console/api/login', headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(who) })

const cookieOf = (res: { headers: Record<string, unknown> }): string => String(res.headers['set-cookie']).split(';')[0]!

t.test('an operator logs in: the session is an HttpOnly SameSite=Strict cookie on /console, never a token in the reply', async (t) => {
  const s = await startStack(t)
  const res = await login(s, members.operator)
  t.equal(res.statusCode, 200)
  const cookie = String(res.headers['set-cookie'])
  t.match(cookie, /^lgsp_console=[^;]+; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=28800/)
  const body = res.json() as { member: { id: string }, csrf: string }
  t.equal(body.member.id, members.operator.id)
  t.notOk(JSON.stringify(body).includes(cookieOf(res).split('=')[1]!), 'the session token is only in the cookie')
  const overview = await s.gateway.app.inject({ method: 'GET', url: '/console/api/overview', headers: { cookie: cookieOf(res) } })
  t.equal(overview.statusCode, 200)
  t.same((overview.json() as { destinations: Array<{ destination: string }> }).destinations.map((d) => d.destination).sort(), ['dvcqg', 'onestop'])
})

t.test('members without the admin right, wrong secrets and bearer tokens do not open the console', async (t) => {
  const s = await startStack(t)
  t.equal((await login(s, members.onestop)).statusCode, 403)
  t.equal((await login(s, { id: members.operator.id, secret: 'wrong' })).statusCode, 401)
  const none = await s.gateway.app.inject({ method: 'GET', url: '/console/api/overview' })
  t.equal(none.statusCode, 401)
  t.equal((none.json() as { code: string }).code, 'LGSP_ERR_CONSOLE_SESSION')
  // A bearer token of the same member, put in the cookie, is not a session (another issuer).
  const bearer = await s.token('operator')
  t.equal((await s.gateway.app.inject({ method: 'GET', url: '/console/api/overview', headers: { cookie: `lgsp_console=${bearer}` } })).statusCode, 401)
  t.equal((await s.gateway.app.inject({ method: 'GET', url: '/console/api/overview', headers: { authorization: `Bearer ${bearer}` } })).statusCode, 401)
})

t.test('state-changing calls need the CSRF token of the session and the same origin', async (t) => {
  const s = await startStack(t)
  const res = await login(s, members.operator)
  const cookie = cookieOf(res)
  const { csrf } = res.json() as { csrf: string }
  const post = async (headers: Record<string, string>) => s.gateway.app.inject({ method: 'POST', url: '/console/api/dead/replay', headers: { cookie, 'content-type': 'application/json', ...headers }, payload: JSON.stringify({ ids: [1] }) })
  const missing = await post({})
  t.equal(missing.statusCode, 403)
  t.equal((missing.json() as { code: string }).code, 'LGSP_ERR_CONSOLE_CSRF')
  t.equal((await post({ 'x-csrf-token': 'x'.repeat(csrf.length) })).statusCode, 403)
  t.equal((await post({ 'x-csrf-token': csrf, origin: 'https://evil.example' })).statusCode, 403)
  const ok = await post({ 'x-csrf-token': csrf, origin: 'http://localhost:80', host: 'localhost:80' })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { results: [{ id: 1, ok: false }] })
  // Login from another origin is refused too (login CSRF).
  t.equal((await login(s, members.operator, { origin: 'https://evil.example' })).statusCode, 403)
})

t.test('the console masks personal data the way the log does', async (t) => {
  const masked = maskForConsole({ ChuHoSo: 'Nguyễn Thị Bình', SoGiayToChuHoSo: CITIZEN_ID, Other: CITIZEN_ID, Phone: '0912 345 678', note: 'x', MaHoSo: '000.00.01.H56-240201-0001', NgayTiepNhan: '20240201080000', error: 'refused for 079203001234' }) as Record<string, string>
  t.equal(masked.ChuHoSo, '[redacted]')
  t.equal(masked.SoGiayToChuHoSo, '[redacted]')
  t.equal(masked.Other, '[redacted]')
  t.equal(masked.Phone, '[redacted]')
  t.equal(masked.MaHoSo, '000.00.01.H56-240201-0001')
  t.equal(masked.NgayTiepNhan, '20240201080000')
  t.equal(masked.error, 'refused for [number]')

  const s = await startStack(t)
  t.equal((await s.post('onestop', '/v1/dossiers', hoso(1))).statusCode, 202)
  await waitFor('delivered', async () => (await s.gateway.store.getDossier(hoso(1).MaHoSo))?.deliveries.dvcqg?.[0]?.state === 'delivered')
  const cookie = cookieOf(await login(s, members.operator))
  const trail = await s.gateway.app.inject({ method: 'GET', url: `/console/api/dossier/${hoso(1).MaHoSo}`, headers: { cookie } })
  t.equal(trail.statusCode, 200)
  for (const value of [CITIZEN_ID, 'Nguyễn Thị Bình', '0912345678', 'binh.nguyen@example.vn']) t.notOk(trail.body.includes(value), `${value} is not in the trail`)
  const d = trail.json() as { state: number, deliveries: Record<string, Array<{ state: string }>>, log: Array<{ direction: string }> }
  t.equal(d.state, 2)
  t.equal(d.deliveries.dvcqg![0]!.state, 'delivered')
  t.ok(d.log.some((e) => e.direction === 'in') && d.log.some((e) => e.direction === 'out'), 'the message log entries of the dossier, both ways')
  const evidence = await s.gateway.app.inject({ method: 'GET', url: `/console/api/dossier/${hoso(1).MaHoSo}/evidence`, headers: { cookie } })
  t.equal(evidence.statusCode, 200)
  t.match(String(evidence.headers['content-disposition']), /attachment/)
})

t.test('the static pages are served with a strict content security policy; other paths are not', async (t) => {
  const s = await startStack(t)
  const page = await s.gateway.app.inject({ method: 'GET', url: '/console/' })
  t.equal(page.statusCode, 200)
  t.match(String(page.headers['content-security-policy']), /script-src 'self'/)
  t.equal((await s.gateway.app.inject({ method: 'GET', url: '/console/vendor/uplot.js' })).statusCode, 200)
  t.equal((await s.gateway.app.inject({ method: 'GET', url: '/console/..%2Fpackage.json' })).statusCode, 404)
  t.equal((await s.gateway.app.inject({ method: 'GET', url: '/console/.env' })).statusCode, 404)
})
