import t from 'tap'
import { request } from 'undici'
import { TokenSigner } from '../../gateway/crypto/token.js'
import { hashSecret } from '../../gateway/members.js'
import { CITIZEN_ID, at, hoso, members, progress, startStack, testMemberList, waitFor, type Stack } from '../helpers.js'

/** A DVCQG reply as clients read it. */
interface Reply { error_code: number, message: string, code?: string, session?: string, [k: string]: any }

/** The base64 `lgspaccesstoken` header a provincial client builds. */
const lgspHeader = (m: { id: string, secret: string }): string =>
  Buffer.from(JSON.stringify({ AccessKey: m.id, SecretKey: m.secret, AppName: 'motcua', PartnerCode: '000.00.00.H56' })).toString('base64')

/** POSTs JSON to the facade as a DVCQG client does (dstcode header, JSON body), through inject. */
async function facade (s: Stack, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number, reply: Reply, headers: Record<string, unknown> }> {
  const res = await s.gateway.app.inject({ method: 'POST', url: `/dvcqg${path}`, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) })
  return { status: res.statusCode, reply: res.json() as Reply, headers: res.headers }
}

async function login (s: Stack, m: { id: string, secret: string } = members.onestop): Promise<string> {
  const { reply } = await facade(s, '/api/auth', { username: m.id, password: m.secret })
  if (reply.error_code !== 0 || typeof reply.session !== 'string') throw new Error(`login failed: ${JSON.stringify(reply)}`)
  return reply.session
}

const succeeded = (r: Reply): boolean => String(r.error_code) === '0' && /thành công/i.test(r.message)

t.test('a one-stop configured for DVCQG works unchanged against the facade: login, sync, progress for two dossiers, look-up, status sync', async (t) => {
  const s = await startStack(t, { listen: true })
  const base = `${s.gateway.url}/dvcqg`
  // Over real HTTP, as the one-stop's own client does it: Accept, Content-Type, dstcode.
  const post = async (path: string, body: unknown): Promise<{ status: number, reply: Reply, dstcode: unknown }> => {
    const res = await request(`${base}${path}`, { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json', dstcode: 'DVCQG' }, body: JSON.stringify(body) })
    return { status: res.statusCode, reply: await res.body.json() as Reply, dstcode: res.headers.dstcode }
  }
  const signin = await post('/api/auth', { username: members.onestop.id, password: members.onestop.secret })
  t.equal(signin.status, 200)
  t.equal(signin.reply.error_code, 0)
  t.match(signin.reply.message, /Thành công/)
  t.type(signin.reply.session, 'string')
  t.ok(signin.reply.expires_in >= 600, 'a session outlives the clients\' ~10-minute renewal')
  t.equal(signin.dstcode, 'DVCQG', 'dstcode is echoed')
  const session = signin.reply.session!
  const envelope = (service: string, fields: Record<string, unknown>): Record<string, unknown> => ({ session, madonvi: '000.00.00.H56', service, ...fields })

  const a = hoso(1)
  const b = hoso(2)
  const synced = await post('/api/integration', envelope('DongBoHoSoMC', { isUpdating: 'False', data: [a, b] }))
  t.equal(synced.status, 200)
  t.ok(succeeded(synced.reply), `DongBoHoSoMC succeeded: ${JSON.stringify(synced.reply)}`)
  t.match(synced.reply.messageId, /^[0-9a-f-]{36}$/)
  t.same(synced.reply.destinations, ['dvcqg'])

  // One call with entries of two dossiers, as CapNhatTienDoHoSoMC allows.
  const entries = [progress(a.MaHoSo, 60, 4, 'Chuyển phòng chuyên môn'), progress(b.MaHoSo, 70, 4, 'Chuyển phòng chuyên môn'), progress(a.MaHoSo, 120, 9, 'Đã xử lý xong')]
  const updated = await post('/api/integration', envelope('CapNhatTienDoHoSoMC', { data: entries }))
  t.ok(succeeded(updated.reply), `CapNhatTienDoHoSoMC succeeded: ${JSON.stringify(updated.reply)}`)
  t.same(updated.reply.results.map((r: any) => [r.MaHoSo, r.error_code]), [[a.MaHoSo, 0], [b.MaHoSo, 0]], 'one result per dossier')
  t.equal(updated.reply.messageIds.length, 2, 'one message per dossier')

  const found = await post('/api/integration', envelope('TraCuuHoSo', { mahoso: a.MaHoSo }))
  t.ok(succeeded(found.reply))
  t.equal(found.reply.result.length, 1)
  const record = found.reply.result[0]
  t.equal(record.MaHoSo, a.MaHoSo)
  t.equal(record.TrangThaiHoSo, '9', 'the ledger\'s state, as a DVCQG code')
  t.same(record.QuaTrinhXuLy.map((e: any) => [e.TrangThai, e.ThoiDiemXuLy]), [['2', record.QuaTrinhXuLy[0].ThoiDiemXuLy], ['4', at(60)], ['9', at(120)]])
  t.same((await post('/api/integration', envelope('TraCuuHoSo', { mahoso: '000.00.01.H56-240201-9999' }))).reply.result, [], 'an unknown dossier is an empty result')

  const status = await post('/api/integration', envelope('DongBoTrangThaiHoSo', { type: '2', data: { MaHoSo: a.MaHoSo, MaHoSoDonVi: a.MaHoSo, TrangThai: '10', NgayXuLy: at(180), NoiDung: 'Đã trả kết quả', MaDoiTuong: '' } }))
  t.ok(succeeded(status.reply), `DongBoTrangThaiHoSo succeeded: ${JSON.stringify(status.reply)}`)

  await waitFor('all progress at DVCQG', () => s.dvcqg.dossiers.get(a.MaHoSo)?.progress.length === 3 && s.dvcqg.dossiers.get(b.MaHoSo)?.progress.length === 1)
  const heldA = s.dvcqg.dossiers.get(a.MaHoSo)!
  t.equal(heldA.record.TenTTHC, a.TenTTHC)
  t.same(heldA.progress.map((p) => [p.TrangThai, p.ThoiDiemXuLy]), [['4', at(60)], ['9', at(120)], ['10', at(180)]])
  t.equal(heldA.progress[2]!.NoiDungXuLy, 'Đã trả kết quả')
  t.same(s.dvcqg.dossiers.get(b.MaHoSo)!.progress.map((p) => p.TrangThai), ['4'])
  t.equal(s.dvcqg.repeats, 0)
  const view = (await s.get('onestop', `/v1/dossiers/${a.MaHoSo}`)).json() as { TrangThaiHoSo: number, owner: string }
  t.equal(view.TrangThaiHoSo, 10)
  t.equal(view.owner, members.onestop.id, 'the session\'s member is the sender')
})

t.test('login refuses a wrong password in DVCQG\'s form and accepts a hashed secret', async (t) => {
  const hashed = { id: 'hashed-test', secret: 'hashed-test-secret-0' }
  const s = await startStack(t, { configExtra: { members: [...testMemberList(), { id: hashed.id, name: 'Hashed (test)', clientSecretHash: hashSecret(hashed.secret), messageKinds: ['dossier'], destinations: ['dvcqg'] }] } })
  const wrong = await facade(s, '/api/auth', { username: members.onestop.id, password: 'not-the-secret-000' })
  t.equal(wrong.status, 200, 'DVCQG answers refusals at HTTP 200')
  t.not(wrong.reply.error_code, 0)
  t.notMatch(wrong.reply.message, /thành công/i)
  t.equal(wrong.reply.code, 'LGSP_ERR_AUTH_INVALID_CLIENT')
  t.equal(wrong.reply.session, undefined)
  const unknown = await facade(s, '/api/auth', { username: 'nobody-test', password: 'whatever-secret-00' })
  t.same([unknown.reply.error_code, unknown.reply.code], [wrong.reply.error_code, wrong.reply.code], 'an unknown member answers as a wrong password')
  const disabled = await facade(s, '/api/auth', { username: members.disabled.id, password: members.disabled.secret })
  t.equal(disabled.reply.code, 'LGSP_ERR_AUTH_MEMBER_DISABLED')
  t.ok(typeof (await login(s, hashed)) === 'string', 'a member with clientSecretHash logs in')
})

t.test('a bad or expired session gets DVCQG\'s "session invalid" reply so the client logs in again', async (t) => {
  const s = await startStack(t)
  const bad = await facade(s, '/api/integration', { session: 'not-a-session', madonvi: '000.00.00.H56', service: 'DongBoHoSoMC', isUpdating: 'False', data: [hoso(1)] })
  t.equal(bad.status, 200)
  t.equal(bad.reply.error_code, -2)
  t.match(bad.reply.message, /^Session không hợp lệ hoặc đã hết hạn/)
  t.equal(bad.reply.code, 'LGSP_ERR_AUTH_INVALID_TOKEN')

  // A session minted by the same secret an hour ago (as any instance would have).
  const cfg = s.config
  const old = new TokenSigner(cfg.auth.tokenSecret!, `${cfg.auth.issuer}/dvcqg-session`, cfg.facade.sessionTtlSeconds).issue(members.onestop.id, Date.now() - 3_600_000 - cfg.facade.sessionTtlSeconds * 1000)
  const expired = await facade(s, '/api/integration', { session: old, madonvi: '000.00.00.H56', service: 'TraCuuHoSo', mahoso: hoso(1).MaHoSo })
  t.equal(expired.reply.error_code, -2)
  t.equal(expired.reply.code, 'LGSP_ERR_AUTH_EXPIRED_TOKEN')

  const missing = await facade(s, '/api/integration', { madonvi: '000.00.00.H56', service: 'TraCuuHoSo', mahoso: hoso(1).MaHoSo })
  t.equal(missing.reply.error_code, -2)
  t.equal(s.dvcqg.dossiers.size, 0, 'nothing was accepted')

  // A session is not a /v1 bearer token, and a session from another gateway secret is refused.
  const session = await login(s)
  const v1 = await s.gateway.app.inject({ method: 'GET', url: `/v1/dossiers/${hoso(1).MaHoSo}`, headers: { authorization: `Bearer ${session}` } })
  t.equal(v1.statusCode, 401)
  const foreign = new TokenSigner('another-gateway-secret-0123456789abcdef', `${cfg.auth.issuer}/dvcqg-session`, 1800).issue(members.onestop.id)
  t.equal((await facade(s, '/api/integration', { session: foreign, madonvi: 'x', service: 'TraCuuHoSo', mahoso: hoso(1).MaHoSo })).reply.error_code, -2)
})

t.test('an unknown service, a malformed request and bad data get non-zero error_codes with lgsp\'s code', async (t) => {
  const s = await startStack(t)
  const session = await login(s)
  const catalogue = await facade(s, '/api/integration', { session, madonvi: '000.00.00.H56', service: 'LayThuTuc', maTTHC: '1.003560.000.00.00.H56' })
  t.equal(catalogue.status, 200)
  t.not(catalogue.reply.error_code, 0)
  t.equal(catalogue.reply.code, 'LGSP_ERR_FACADE_UNKNOWN_SERVICE')
  t.match(catalogue.reply.message, /LayThuTuc/)

  const nothing = await facade(s, '/api/integration', { hello: 'world' })
  t.equal(nothing.reply.code, 'LGSP_ERR_FACADE_MALFORMED')

  const invalid = await facade(s, '/api/integration', { session, madonvi: '000.00.00.H56', service: 'DongBoHoSoMC', isUpdating: 'False', data: [{ ...hoso(3), TrangThaiHoSo: '42' }] })
  t.equal(invalid.reply.error_code, -1)
  t.equal(invalid.reply.code, 'LGSP_ERR_REQUEST_INVALID')
  t.ok(Array.isArray(invalid.reply.errors) && invalid.reply.errors.length > 0, 'the field errors come along')
  t.notMatch(JSON.stringify(invalid.reply), /thành công/i, 'nothing in a refusal reads as success')

  // Progress for a dossier nobody sent: the other dossier of the batch is still accepted, the batch reads as failed.
  await facade(s, '/api/integration', { session, madonvi: 'x', service: 'DongBoHoSoMC', isUpdating: 'False', data: [hoso(4)] })
  const mixed = await facade(s, '/api/integration', { session, madonvi: 'x', service: 'CapNhatTienDoHoSoMC', data: [progress(hoso(4).MaHoSo, 60, 4), progress('000.00.01.H56-240201-9999', 60, 4)] })
  t.not(mixed.reply.error_code, 0)
  t.notMatch(JSON.stringify(mixed.reply), /thành công/i, 'a client that searches the whole reply text for "thành công" sees a failure')
  t.same(mixed.reply.results.map((r: any) => r.error_code === 0), [true, false])
  t.match(mixed.reply.message, /1 of 2 dossier/)

  // A status sync with result files: recorded, and the files ride with the entry to DVCQG.
  const withFiles = await facade(s, '/api/integration', { session, madonvi: 'x', service: 'DongBoTrangThaiHoSo', type: '2', data: { MaHoSo: hoso(4).MaHoSo, TrangThaiHoSo: '9', NgayXuLy: at(90), NoiDung: 'Đã xử lý xong', TaiLieuXuLy: [{ TenTepDinhKem: 'ketqua.pdf', DuongDanTaiTepTin: 'https://example.vn/ketqua.pdf', IsDeleted: 'False' }] } })
  t.ok(succeeded(withFiles.reply), JSON.stringify(withFiles.reply))
  await waitFor('the status entry reaches DVCQG with its TaiLieuXuLy', () => (s.dvcqg.dossiers.get(hoso(4).MaHoSo)?.progress ?? []).some((e) => Array.isArray(e.TaiLieuXuLy) && e.TrangThai === '9'))
  const wrongStatus = await facade(s, '/api/integration', { session, madonvi: 'x', service: 'DongBoTrangThaiHoSo', type: '2', data: { MaHoSo: hoso(4).MaHoSo, TrangThai: '11', NgayXuLy: at(95) } })
  t.equal(wrongStatus.reply.code, 'LGSP_ERR_REQUEST_INVALID', 'a status outside 1-10 is refused, not guessed')
})

t.test('a re-send of the same data is a replay: the first answer back, no second delivery', async (t) => {
  const s = await startStack(t)
  const record = hoso(20)
  const send = async (): Promise<Reply> => (await facade(s, '/api/integration', { session: await login(s), madonvi: '000.00.00.H56', service: 'DongBoHoSoMC', isUpdating: 'False', data: [record] })).reply
  const first = await send()
  // A new login (a new session) and isUpdating flipped, as a client retrying after a timeout does.
  const again = (await facade(s, '/api/integration', { session: await login(s), madonvi: '000.00.00.H56', service: 'DongBoHoSoMC', isUpdating: 'True', data: [record] })).reply
  t.ok(succeeded(first) && succeeded(again))
  t.equal(first.replayed, false)
  t.equal(again.replayed, true)
  t.equal(again.messageId, first.messageId)
  await waitFor('delivered', () => s.dvcqg.dossiers.has(record.MaHoSo))
  const view = (await s.get('onestop', `/v1/dossiers/${record.MaHoSo}`)).json() as { history: unknown[], deliveries: { dvcqg: { units: unknown[] } } }
  t.equal(view.history.length, 1, 'one ledger entry')
  t.equal(view.deliveries.dvcqg.units.length, 1, 'one delivery unit: no second delivery can happen')

  const p = progress(record.MaHoSo, 30, 4)
  const p1 = (await facade(s, '/api/integration', { session: await login(s), madonvi: 'x', service: 'CapNhatTienDoHoSoMC', data: [p] })).reply
  const p2 = (await facade(s, '/api/integration', { session: await login(s), madonvi: 'x', service: 'CapNhatTienDoHoSoMC', data: [p] })).reply
  t.same(p2.messageIds, p1.messageIds)
  t.equal(p2.results[0].replayed, true)
})

t.test('bare arrays to one URL per service, authenticated by a bearer token, a session header or lgspaccesstoken', async (t) => {
  const s = await startStack(t)
  const a = hoso(30)
  const byBearer = await facade(s, '/DongBoHoSoMC', [a], { authorization: `Bearer ${await s.token('onestop')}` })
  t.ok(succeeded(byBearer.reply), JSON.stringify(byBearer.reply))
  const bySession = await facade(s, '/CapNhatTienDoHoSoMC', { data: [progress(a.MaHoSo, 60, 4)] }, { session: await login(s) })
  t.ok(succeeded(bySession.reply), JSON.stringify(bySession.reply))
  // A client's own suffix (here "dong-bo-tien-trinh"): the records say what they are.
  const byHeader = await facade(s, '/api/dong-bo-tien-trinh', [progress(a.MaHoSo, 120, 9, 'Đã xử lý xong')], { lgspaccesstoken: lgspHeader(members.onestop) })
  t.ok(succeeded(byHeader.reply), JSON.stringify(byHeader.reply))
  await waitFor('two progress entries at DVCQG', () => s.dvcqg.dossiers.get(a.MaHoSo)?.progress.length === 2)

  const anonymous = await facade(s, '/DongBoHoSoMC', [hoso(31)])
  t.equal(anonymous.reply.error_code, -2)
  t.equal(anonymous.reply.code, 'LGSP_ERR_AUTH_MISSING_TOKEN')
  const malformed = await facade(s, '/DongBoHoSoMC', [hoso(31)], { lgspaccesstoken: 'not base64!' })
  t.equal(malformed.reply.code, 'LGSP_ERR_AUTH_LGSP_TOKEN_MALFORMED')
  const wrong = await facade(s, '/DongBoHoSoMC', [hoso(31)], { lgspaccesstoken: lgspHeader({ id: members.onestop.id, secret: 'wrong-secret-000000' }) })
  t.equal(wrong.reply.code, 'LGSP_ERR_AUTH_INVALID_CLIENT')
  t.notOk(s.dvcqg.dossiers.has(hoso(31).MaHoSo))
})

t.test('lgspaccesstoken: exchanged on POST /token for a bearer token that works on the facade, and accepted on the facade directly', async (t) => {
  const s = await startStack(t)
  const res = await s.gateway.app.inject({ method: 'POST', url: '/token', headers: { lgspaccesstoken: lgspHeader(members.onestop), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' })
  t.equal(res.statusCode, 200)
  const token = res.json() as { access_token: string, token_type: string, expires_in: number }
  t.equal(token.token_type, 'Bearer')
  // Clients send both headers on each call.
  const both = await facade(s, '/api/integration', { madonvi: 'x', service: 'DongBoHoSoMC', isUpdating: 'False', data: [hoso(40)] }, { authorization: `Bearer ${token.access_token}`, lgspaccesstoken: lgspHeader(members.onestop) })
  t.ok(succeeded(both.reply), JSON.stringify(both.reply))
  const direct = await facade(s, '/api/integration', { madonvi: 'x', service: 'TraCuuHoSo', mahoso: hoso(40).MaHoSo }, { lgspaccesstoken: lgspHeader(members.onestop) })
  t.equal(direct.reply.result.length, 1)
})

t.test('the session\'s member rules apply: no progress kind, no reading of others\' dossiers, signatures required', async (t) => {
  const dossierOnly = { id: 'dossier-only-test', secret: 'dossier-only-secret0' }
  const signer = { id: 'signer-test', secret: 'signer-test-secret-0' }
  const s = await startStack(t, {
    configExtra: {
      members: [...testMemberList(),
        { id: dossierOnly.id, name: 'Dossiers only (test)', clientSecret: dossierOnly.secret, messageKinds: ['dossier'], destinations: ['dvcqg'], read: 'own' },
        { id: signer.id, name: 'Signs (test)', clientSecret: signer.secret, messageKinds: ['dossier', 'progress'], destinations: ['dvcqg'], signature: { required: true } }]
    }
  })
  const session = await login(s, dossierOnly)
  const record = hoso(50)
  t.ok(succeeded((await facade(s, '/api/integration', { session, madonvi: 'x', service: 'DongBoHoSoMC', isUpdating: 'False', data: [record] })).reply))
  const refused = await facade(s, '/api/integration', { session, madonvi: 'x', service: 'CapNhatTienDoHoSoMC', data: [progress(record.MaHoSo, 60, 4)] })
  t.equal(refused.reply.error_code, -7)
  t.equal(refused.reply.code, 'LGSP_ERR_AUTH_KIND_FORBIDDEN')
  t.equal(refused.reply.results[0].code, 'LGSP_ERR_AUTH_KIND_FORBIDDEN')
  const statusRefused = await facade(s, '/api/integration', { session, madonvi: 'x', service: 'DongBoTrangThaiHoSo', type: '2', data: { MaHoSo: record.MaHoSo, TrangThai: '4', NgayXuLy: at(60), NoiDung: 'x' } })
  t.equal(statusRefused.reply.code, 'LGSP_ERR_AUTH_KIND_FORBIDDEN')

  // The one-stop's dossier is not this member's to read: an empty result, as DVCQG says "not found".
  const other = hoso(51)
  await s.post('onestop', '/v1/dossiers', other)
  t.same((await facade(s, '/api/integration', { session, madonvi: 'x', service: 'TraCuuHoSo', mahoso: other.MaHoSo })).reply.result, [])
  t.equal((await facade(s, '/api/integration', { session, madonvi: 'x', service: 'TraCuuHoSo', mahoso: record.MaHoSo })).reply.result.length, 1)

  const signed = await facade(s, '/api/integration', { session: await login(s, signer), madonvi: 'x', service: 'DongBoHoSoMC', isUpdating: 'False', data: [hoso(52)] })
  t.equal(signed.reply.code, 'LGSP_ERR_SIGNATURE_MISSING', 'a member that must sign cannot go around /v1')
  await waitFor('the accepted dossier delivered', () => s.dvcqg.dossiers.has(record.MaHoSo))
  t.notOk(s.dvcqg.dossiers.has(hoso(52).MaHoSo))
})

t.test('the facade logs no personal data and no session', async (t) => {
  const s = await startStack(t)
  const session = await login(s)
  const record = { ...hoso(60), ChuHoSo: 'Nguyễn Thị Bình' }
  await facade(s, '/api/auth', { username: CITIZEN_ID, password: CITIZEN_ID })
  await facade(s, '/api/integration', { session, madonvi: CITIZEN_ID, service: 'DongBoHoSoMC', isUpdating: 'False', data: [record] }, { dstcode: CITIZEN_ID })
  await facade(s, '/api/integration', { session, madonvi: 'x', service: 'CapNhatTienDoHoSoMC', data: [progress(record.MaHoSo, 60, 4, `CCCD ${CITIZEN_ID}`)] })
  await facade(s, '/api/integration', { session, madonvi: 'x', service: 'TraCuuHoSo', mahoso: CITIZEN_ID })
  await facade(s, `/${CITIZEN_ID}`, [{ SoGiayToChuHoSo: CITIZEN_ID }], { session })
  await facade(s, '/api/integration', { session: CITIZEN_ID, madonvi: 'x', service: 'DongBoHoSoMC', data: [] })
  await facade(s, '/DongBoHoSoMC', [record], { lgspaccesstoken: Buffer.from(JSON.stringify({ AccessKey: CITIZEN_ID, SecretKey: CITIZEN_ID })).toString('base64') })
  await waitFor('delivered', () => s.dvcqg.dossiers.get(record.MaHoSo)?.progress.length === 1)
  const text = s.logs.join('')
  t.match(text, /dvcqg facade call/)
  t.match(text, /"madonvi":"\[not a code\]"/, 'a code field carrying a number is not logged')
  for (const p of [CITIZEN_ID, 'Nguyễn Thị Bình', 'Trần Văn Cường', session]) t.notOk(text.includes(p), `no "${p.slice(0, 20)}" in the logs`)
})

t.test('a body that is not JSON is answered in DVCQG\'s form, at HTTP 200', async (t) => {
  const s = await startStack(t)
  const res = await s.gateway.app.inject({ method: 'POST', url: '/dvcqg/api/integration', headers: { 'content-type': 'application/json' }, payload: '{"session": "x", "data": [' })
  t.equal(res.statusCode, 200)
  const reply = res.json() as Reply
  t.equal(reply.error_code, -1)
  t.equal(reply.code, 'LGSP_ERR_REQUEST_MALFORMED')
})

t.test('the facade can be switched off, moved, and made to answer success as "00"', async (t) => {
  const off = await startStack(t, { configExtra: { facade: { enabled: false } } })
  t.equal((await off.gateway.app.inject({ method: 'POST', url: '/dvcqg/api/auth', payload: { username: members.onestop.id, password: members.onestop.secret } })).statusCode, 404)
  const moved = await startStack(t, { configExtra: { facade: { basePath: '/lgsp/dvcqg', successCode: '00' } } })
  const res = await moved.gateway.app.inject({ method: 'POST', url: '/lgsp/dvcqg/api/auth', payload: { username: members.onestop.id, password: members.onestop.secret } })
  const reply = res.json() as Reply
  t.equal(reply.error_code, '00', 'what an OpenCPS client compares DongBoHoSoMC\'s reply with')
  const synced = await moved.gateway.app.inject({ method: 'POST', url: '/lgsp/dvcqg/api/integration', payload: { session: reply.session, madonvi: 'x', service: 'DongBoHoSoMC', isUpdating: 'False', data: [hoso(70)] } })
  t.equal((synced.json() as Reply).error_code, '00')
  const wrong = await moved.gateway.app.inject({ method: 'POST', url: '/lgsp/dvcqg/api/auth', payload: { username: members.onestop.id, password: 'wrong-secret-0000000' } })
  t.equal((wrong.json() as Reply).error_code, -6, 'failures keep their numeric codes')
})
