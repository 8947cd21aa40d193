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

t.test('dead letters: pages by cursor, filters by code and date, each with every attempt kept in the store', async (t) => {
  const s = await startStack(t, { configExtra: { delivery: { pollIntervalMs: 50, retry: { baseMs: 10, maxMs: 20, maxAttempts: 2 } } } })
  s.dvcqg.server.setFaults({ mode: 'error' })
  const dossiers = [hoso(11), hoso(12), hoso(13)]
  for (const d of dossiers) t.equal((await s.post('onestop', '/v1/dossiers', d)).statusCode, 202)
  await waitFor('three dead letters', async () => (await s.gateway.store.listDead({ destination: 'dvcqg' })).length === 3)
  const cookie = cookieOf(await login(s, members.operator))
  const get = async (url: string): Promise<any> => {
    const res = await s.gateway.app.inject({ method: 'GET', url, headers: { cookie } })
    t.equal(res.statusCode, 200, url)
    return res.json()
  }
  const first = await get('/console/api/dead?destination=dvcqg&limit=2')
  t.equal(first.entries.length, 2)
  t.type(first.next, 'string')
  const second = await get(`/console/api/dead?destination=dvcqg&limit=2&after=${encodeURIComponent(first.next)}`)
  t.equal(second.entries.length, 1)
  t.equal(second.next, null, 'the last page says so')
  t.same([...first.entries, ...second.entries].map((d: any) => d.maHoSo).sort(), dossiers.map((d) => d.MaHoSo).sort(), 'every dead letter once')
  const code = first.entries[0].code as string
  t.ok(first.codes.includes(code), 'the code filter offers the delivery codes')
  t.equal((await get(`/console/api/dead?code=${code}`)).entries.length, 3)
  t.equal((await get('/console/api/dead?code=LGSP_ERR_DVCQG_REJECTED')).entries.length, 0)
  const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10)
  const yesterday = new Date(Date.now() + 7 * 3600_000 - 86_400_000).toISOString().slice(0, 10)
  t.equal((await get(`/console/api/dead?from=${today}&to=${today}`)).entries.length, 3, 'today (Vietnam days), both ends included')
  t.equal((await get(`/console/api/dead?to=${yesterday}`)).entries.length, 0)
  t.equal((await s.gateway.app.inject({ method: 'GET', url: '/console/api/dead?after=bogus', headers: { cookie } })).statusCode, 400)

  const one = await get(`/console/api/dead/${first.entries[0].id}`)
  t.match(one.entry, { id: first.entries[0].id, code })
  t.equal(one.attempts.length, 2, 'every attempt, read from the store')
  t.match(one.attempts, [{ attempt: 1, outcome: 'retry', code }, { attempt: 2, outcome: 'dead', code }])
  t.ok(one.attempts.every((a: any) => typeof a.ms === 'number' && typeof a.uncertain === 'boolean' && typeof a.message === 'string'))
  const trail = await get(`/console/api/dossier/${first.entries[0].maHoSo}`)
  t.equal(trail.deliveries.dvcqg[0].attemptsSeen.length, 2, 'the dossier trail shows them too')
  t.equal((await s.gateway.app.inject({ method: 'GET', url: '/console/api/dead/999999', headers: { cookie } })).statusCode, 404)
})

t.test('late by working days: weekends, holidays (Tết) and make-up days count as the calendar says', async (t) => {
  const { WorkingCalendar } = await import('../../gateway/ledger/dates.js')
  const vn = (day: string, time = '10:00'): number => Date.parse(`${day}T${time}:00+07:00`)
  // Tết 2024: 8–14 February off; Saturday 17 February a make-up working day.
  const calendar = new WorkingCalendar({ weekend: [0, 6], holidays: ['2024-02-08', '2024-02-09', '2024-02-12', '2024-02-13', '2024-02-14'], workingDays: ['2024-02-17'] })
  t.equal(calendar.workingDaysAfter(vn('2024-02-07', '17:00'), vn('2024-02-16')), 2, 'nine calendar days, two working days')
  t.equal(calendar.workingDaysAfter(vn('2024-02-07', '17:00'), vn('2024-02-17')), 3, 'the make-up Saturday counts')
  t.equal(calendar.workingDaysAfter(vn('2024-02-07', '08:00'), vn('2024-02-07', '17:00')), 0, 'the same day')
  t.equal(calendar.workingDaysAfter(vn('2024-02-02'), vn('2024-02-05')), 1, 'Friday to Monday: one working day')
  t.equal(calendar.workingDaysAfter(vn('2024-02-26'), vn('2024-03-01', '00:00')), 3, 'judged at a period\'s end (midnight): the next day does not count')
})
