import t from 'tap'
import { TokenSigner } from '../../gateway/crypto/token.js'
import { at, hoso, members, progress, startStack, waitFor, waitForQueuesDrained } from '../helpers.js'

/** One failure case: a request fixture and the expected status and code. */
interface Case {
  name: string
  method?: 'POST' | 'GET'
  url: string
  /** Body as sent: a string is sent raw. */
  body?: unknown
  headers?: Record<string, string>
  /** Which member's token; `none` sends no Authorization header; a string is sent as is. */
  as?: keyof typeof members | 'none' | { authorization: string }
  status: number
  code: string
}

const known = hoso(1, { TrangThaiHoSo: '10', NgayKetThucXuLy: hoso(1).NgayHenTra, NgayTra: hoso(1).NgayHenTra })
const fresh = hoso(2)
const url = '/v1/dossiers'
const progressUrl = `/v1/dossiers/${known.MaHoSo}/progress`
const secret = 'test-token-secret-0123456789abcdef-xyz'

const cases: Case[] = [
  { name: 'malformed JSON', url, body: '{"MaHoSo": ', status: 400, code: 'LGSP_ERR_REQUEST_MALFORMED' },
  { name: 'empty JSON body', url, body: '', status: 400, code: 'LGSP_ERR_REQUEST_MALFORMED' },
  { name: 'not JSON at all', url, body: 'MaHoSo=1', headers: { 'content-type': 'text/plain' }, status: 415, code: 'LGSP_ERR_REQUEST_MEDIA_TYPE' },
  { name: 'JSON null', url, body: 'null', status: 422, code: 'LGSP_ERR_REQUEST_INVALID' },
  { name: 'missing required field', url, body: { ...fresh, MaTTHC: undefined }, status: 422, code: 'LGSP_ERR_REQUEST_INVALID' },
  { name: 'status that does not exist', url, body: { ...fresh, TrangThaiHoSo: '0' }, status: 422, code: 'LGSP_ERR_REQUEST_INVALID' },
  { name: 'status out of range', url, body: { ...fresh, TrangThaiHoSo: '11' }, status: 422, code: 'LGSP_ERR_REQUEST_INVALID' },
  { name: 'channel out of range', url, body: { ...fresh, KenhThucHien: 4 }, status: 422, code: 'LGSP_ERR_REQUEST_INVALID' },
  { name: 'fee that is not a number', url, body: { ...fresh, DanhSachLePhi: [{ TenPhiLePhi: 'Lệ phí', Gia: 'một trăm nghìn' }] }, status: 422, code: 'LGSP_ERR_REQUEST_INVALID' },
  { name: 'fee with a fraction of a đồng', url, body: { ...fresh, DanhSachLePhi: [{ TenPhiLePhi: 'Lệ phí', Gia: '135000.5' }] }, status: 422, code: 'LGSP_ERR_REQUEST_INVALID' },
  { name: 'empty MaHoSo', url, body: { ...fresh, MaHoSo: '' }, status: 422, code: 'LGSP_ERR_REQUEST_INVALID' },
  { name: 'empty status', url, body: { ...fresh, TrangThaiHoSo: '' }, status: 422, code: 'LGSP_ERR_REQUEST_INVALID' },
  { name: 'procedure code malformed', url, body: { ...fresh, MaTTHC: 'GPLX-01' }, status: 422, code: 'LGSP_ERR_REQUEST_INVALID' },
  { name: 'received dossier without NgayTiepNhan', url, body: { ...fresh, NgayTiepNhan: undefined }, status: 422, code: 'LGSP_ERR_REQUEST_INVALID' },
  { name: '31 February', url, body: { ...fresh, NgayTiepNhan: '20240231080000' }, status: 422, code: 'LGSP_ERR_REQUEST_INVALID_DATE' },
  { name: 'ISO date instead of yyyyMMddHHmmss', url, body: { ...fresh, NgayHenTra: '2024-02-05T17:00:00' }, status: 422, code: 'LGSP_ERR_REQUEST_INVALID_DATE' },
  { name: 'hour 24', url, body: { ...fresh, NgayTiepNhan: '20240201240000' }, status: 422, code: 'LGSP_ERR_REQUEST_INVALID_DATE' },
  { name: 'due date before reception', url, body: { ...fresh, NgayHenTra: '20240131080000' }, status: 422, code: 'LGSP_ERR_REQUEST_DATE_ORDER' },
  { name: 'same dossier twice in a batch', url, body: [fresh, fresh], status: 422, code: 'LGSP_ERR_REQUEST_DUPLICATE_DOSSIER' },
  { name: 'empty batch', url, body: [], status: 422, code: 'LGSP_ERR_REQUEST_INVALID' },
  { name: 'batch over 100', url, body: Array.from({ length: 101 }, (_, i) => hoso(1000 + i)), status: 422, code: 'LGSP_ERR_REQUEST_INVALID' },
  { name: 'oversized body', url, body: { ...fresh, TrichYeuHoSo: 'x'.repeat(1_100_000) }, status: 413, code: 'LGSP_ERR_REQUEST_TOO_LARGE' },
  { name: 'no token', url, body: fresh, as: 'none', status: 401, code: 'LGSP_ERR_AUTH_MISSING_TOKEN' },
  { name: 'not a bearer token', url, body: fresh, as: { authorization: 'Basic abc' }, status: 401, code: 'LGSP_ERR_AUTH_INVALID_TOKEN' },
  { name: 'token signed by someone else', url, body: fresh, as: { authorization: `Bearer ${new TokenSigner('another-secret-0123456789abcdef-xyz', 'lgsp', 300).issue(members.onestop.id)}` }, status: 401, code: 'LGSP_ERR_AUTH_INVALID_TOKEN' },
  { name: 'token of an unknown member', url, body: fresh, as: { authorization: `Bearer ${new TokenSigner(secret, 'lgsp', 300).issue('nobody')}` }, status: 401, code: 'LGSP_ERR_AUTH_INVALID_TOKEN' },
  { name: 'expired token', url, body: fresh, as: { authorization: `Bearer ${new TokenSigner(secret, 'lgsp', 300).issue(members.onestop.id, Date.now() - 3600_000)}` }, status: 401, code: 'LGSP_ERR_AUTH_EXPIRED_TOKEN' },
  { name: 'token of a disabled member', url, body: fresh, as: { authorization: `Bearer ${new TokenSigner(secret, 'lgsp', 300).issue(members.disabled.id)}` }, status: 403, code: 'LGSP_ERR_AUTH_MEMBER_DISABLED' },
  { name: 'forbidden destination', url: `${url}?destinations=dvcqg,tax`, body: fresh, status: 403, code: 'LGSP_ERR_AUTH_DESTINATION_FORBIDDEN' },
  { name: 'message kind not allowed', url, body: fresh, as: 'reader', status: 403, code: 'LGSP_ERR_AUTH_KIND_FORBIDDEN' },
  { name: 'invalid Idempotency-Key', url, body: fresh, headers: { 'idempotency-key': 'x'.repeat(200) }, status: 400, code: 'LGSP_ERR_IDEMPOTENCY_KEY_INVALID' },
  { name: 'illegal transition (10 is final, 3 is not behind it)', url, body: { ...known, TrangThaiHoSo: '3', NgayTuChoi: at(5000) }, status: 409, code: 'LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION' },
  { name: 'illegal progress transition (10 to 3, later)', url: progressUrl, body: progress(known.MaHoSo, 5000, 3), status: 409, code: 'LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION' },
  { name: 'progress for an unknown dossier', url: `/v1/dossiers/${fresh.MaHoSo}/progress`, body: progress(fresh.MaHoSo, 10, 4), status: 404, code: 'LGSP_ERR_DOSSIER_NOT_FOUND' },
  { name: 'progress naming another dossier', url: progressUrl, body: progress(fresh.MaHoSo, 10, 4), status: 422, code: 'LGSP_ERR_REQUEST_PATH_MISMATCH' },
  { name: 'progress without a time', url: progressUrl, body: { ...progress(known.MaHoSo, 10, 4), ThoiDiemXuLy: undefined }, status: 422, code: 'LGSP_ERR_REQUEST_INVALID' },
  { name: 'progress with an empty time', url: progressUrl, body: { ...progress(known.MaHoSo, 10, 4), ThoiDiemXuLy: '' }, status: 422, code: 'LGSP_ERR_REQUEST_INVALID_DATE' },
  { name: 'progress whose every entry is impossible', url: progressUrl, body: [progress(known.MaHoSo, 5000, 7), progress(known.MaHoSo, 5001, 3)], status: 409, code: 'LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION' },
  { name: 'dossier code with bad characters in the URL', url: '/v1/dossiers/%3Cscript%3E/progress', body: progress(known.MaHoSo, 10, 4), status: 400, code: 'LGSP_ERR_REQUEST_BAD_PARAMETER' },
  { name: 'reading a dossier of another member', method: 'GET', url: `/v1/dossiers/${known.MaHoSo}`, as: 'vertical', status: 200, code: '' },
  { name: 'unknown route', url: '/v1/hoso', body: fresh, status: 404, code: 'LGSP_ERR_REQUEST_NOT_FOUND' },
  { name: 'admin route for a non-admin', method: 'GET', url: '/v1/admin/dlq', status: 403, code: 'LGSP_ERR_AUTH_ADMIN_REQUIRED' },
  { name: 'dead-letter id not a number', url: '/v1/admin/dlq/abc/replay', body: {}, as: 'operator', status: 400, code: 'LGSP_ERR_REQUEST_BAD_PARAMETER' }
]

t.test('every client mistake gets its 4xx problem+json and changes nothing', async (t) => {
  const s = await startStack(t)
  t.equal((await s.post('onestop', url, known)).statusCode, 202)
  await waitFor('the known dossier delivered', () => s.dvcqg.dossiers.has(known.MaHoSo))
  await waitForQueuesDrained(s)
  const before = { calls: { ...s.dvcqg.calls }, view: (await s.get('onestop', `/v1/dossiers/${known.MaHoSo}`)).body }

  for (const c of cases) {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...c.headers }
    if (c.as === undefined || typeof c.as === 'string') {
      if (c.as !== 'none') headers.authorization = `Bearer ${await s.token(c.as ?? 'onestop')}`
    } else {
      headers.authorization = c.as.authorization
    }
    const res = await s.gateway.app.inject({
      method: c.method ?? 'POST',
      url: c.url,
      headers,
      ...(c.method === 'GET' ? {} : { payload: typeof c.body === 'string' ? c.body : JSON.stringify(c.body) })
    })
    if (c.status === 200) {
      t.equal(res.statusCode, 200, `${c.name}: the vertical member may read all`)
      continue
    }
    t.equal(res.statusCode, c.status, `${c.name}: status`)
    t.match(res.headers['content-type'], /^application\/problem\+json/, `${c.name}: problem+json`)
    const p = res.json() as Record<string, unknown>
    t.equal(p.code, c.code, `${c.name}: code`)
    t.match(p, { type: String, title: String, status: c.status, detail: String, requestId: String }, `${c.name}: RFC 9457 members`)
  }

  // Nothing was stored or delivered by any of them: anything queued would be delivered before the queues drain.
  await waitForQueuesDrained(s)
  t.same(s.dvcqg.calls, before.calls, 'no delivery')
  t.equal((await s.get('onestop', `/v1/dossiers/${known.MaHoSo}`)).body, before.view, 'the known dossier is unchanged')
  t.equal((await s.get('onestop', `/v1/dossiers/${fresh.MaHoSo}`)).statusCode, 404, 'no refused dossier was stored')
  const queues = (await s.get('operator', '/v1/admin/queues')).json() as Array<{ pending: number, inflight: number, dead: number, delivered: number }>
  t.same(queues.map((q) => [q.pending + q.inflight + q.dead, q.delivered]), [[0, 1]], 'only the known dossier was ever queued')
  t.notOk(s.logs.some((l) => /"level":50/.test(l)), 'no error logged: none of these is a server fault')
})

t.test('POST /token: client credentials with HTTP Basic', async (t) => {
  const s = await startStack(t)
  const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
  const ask = (authorization: string | undefined, payload: string, type = 'application/x-www-form-urlencoded') =>
    s.gateway.app.inject({ method: 'POST', url: '/token', headers: { 'content-type': type, ...(authorization === undefined ? {} : { authorization }) }, payload })

  const ok = await ask(basic(members.onestop.id, members.onestop.secret), 'grant_type=client_credentials')
  t.equal(ok.statusCode, 200)
  t.match(ok.json(), { token_type: 'Bearer', expires_in: 300, access_token: /^[\w-]+\.[\w-]+\.[\w-]+$/ })
  t.equal(ok.headers['cache-control'], 'no-store')
  t.equal((await ask(basic(members.onestop.id, members.onestop.secret), '{"grant_type":"client_credentials"}', 'application/json')).statusCode, 200, 'JSON body too')

  const refusals: Array<[string, string | undefined, string, number, string]> = [
    ['wrong secret', basic(members.onestop.id, 'not-the-secret-at-all'), 'grant_type=client_credentials', 401, 'LGSP_ERR_AUTH_INVALID_CLIENT'],
    ['unknown member', basic('nobody', 'whatever-secret-123'), 'grant_type=client_credentials', 401, 'LGSP_ERR_AUTH_INVALID_CLIENT'],
    ['no credentials', undefined, 'grant_type=client_credentials', 401, 'LGSP_ERR_AUTH_INVALID_CLIENT'],
    ['disabled member', basic(members.disabled.id, members.disabled.secret), 'grant_type=client_credentials', 403, 'LGSP_ERR_AUTH_MEMBER_DISABLED'],
    ['password grant', basic(members.onestop.id, members.onestop.secret), 'grant_type=password', 400, 'LGSP_ERR_AUTH_UNSUPPORTED_GRANT']
  ]
  for (const [name, auth, body, status, code] of refusals) {
    const res = await ask(auth, body)
    t.equal(res.statusCode, status, name)
    t.equal(res.json().code, code, name)
  }
  t.equal((await ask(undefined, 'grant_type=client_credentials')).headers['www-authenticate'], 'Basic realm="lgsp"')
})
