import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger, scrub } from '../gateway/logger.js'
import { CITIZEN_ID, hoso, progress, startStack, waitFor } from './helpers.js'
import { poisonProgress } from './delivery/poison.js'

const personal = [CITIZEN_ID, 'Nguyễn Thị Bình', '0912345678', 'binh.nguyen@example.vn', 'Trần Văn Cường']

t.test('a citizen ID posted through every route never appears in the logs', async (t) => {
  const s = await startStack(t, { configExtra: { log: { level: 'trace' } } })
  const record = hoso(1)
  const id = record.MaHoSo

  // Every route, with personal data in the body, the headers and the query string.
  await s.post('onestop', '/v1/dossiers', record)
  await s.post('onestop', `/v1/dossiers?destinations=dvcqg&cccd=${CITIZEN_ID}`, hoso(2))
  await s.post('onestop', '/v1/dossiers', { ...hoso(3), SoGiayToChuHoSo: `${CITIZEN_ID}!` })
  await s.post('onestop', '/v1/dossiers', { ...hoso(4), Email: 'not-an-email', ChuHoSo: personal[1] })
  await s.post('onestop', '/v1/dossiers', `{"SoGiayToChuHoSo":"${CITIZEN_ID}"`)
  await s.post('onestop', '/v1/dossiers', hoso(5), { 'idempotency-key': CITIZEN_ID })
  await s.post('onestop', `/v1/dossiers/${id}/progress`, progress(id, 10, 4, `Xác minh CCCD ${CITIZEN_ID}`))
  await s.post('vertical', `/v1/dossiers/${id}/progress`, progress(id, 30, 9, `Đã cấp cho ${CITIZEN_ID}`))
  // Impossible (9 to 3, later than the 9): refused.
  t.equal((await s.post('onestop', `/v1/dossiers/${id}/progress`, progress(id, 35, 3, `CCCD ${CITIZEN_ID}`))).statusCode, 409)
  await s.get('onestop', `/v1/dossiers/${id}`)
  await s.get('onestop', `/v1/dossiers/${CITIZEN_ID}`)
  await s.gateway.app.inject({ method: 'POST', url: '/token', headers: { authorization: `Basic ${Buffer.from(`${CITIZEN_ID}:${CITIZEN_ID}-secret`).toString('base64')}` }, payload: { grant_type: 'client_credentials' } })
  await s.gateway.app.inject({ method: 'GET', url: `/v1/dossiers/${id}`, headers: { authorization: `Bearer ${CITIZEN_ID}` } })
  await s.get('operator', `/v1/admin/dlq?maHoSo=${CITIZEN_ID}`)
  await s.get('operator', '/v1/admin/queues')
  await s.gateway.app.inject({ method: 'GET', url: `/healthz?x=${CITIZEN_ID}` })
  await s.gateway.app.inject({ method: 'GET', url: `/readyz?x=${CITIZEN_ID}` })
  await s.gateway.app.inject({ method: 'GET', url: `/nowhere/${CITIZEN_ID}` })
  await s.post('onestop', '/v1/payments', { MaHoSo: id, MaDonVi: '000.00.01.H56', PhiLePhi: [{ TenPhiLePhi: `Lệ phí ${CITIZEN_ID}`, Gia: 1000 }], ThongTinGiaoDich: `${personal[1]} ${CITIZEN_ID}` })
  await s.post('onestop', '/v1/payments', { MaHoSo: id, MaDonVi: CITIZEN_ID, PhiLePhi: [] })
  await s.gateway.app.inject({ method: 'POST', url: '/v1/callbacks/paygov', headers: { 'content-type': 'application/json' }, payload: { MaThamChieu: CITIZEN_ID, ThongTinGiaoDich: personal[1] } })
  await s.get('operator', `/v1/payments/${CITIZEN_ID}`)

  // Delivery failures too: DVCQG refuses progress as for a dossier it does not hold (even after the re-sync), and quotes the data back.
  await waitFor('delivered', () => s.dvcqg.dossiers.get(id)?.progress.length === 2)
  poisonProgress(s.dvcqg, id)
  await s.post('onestop', `/v1/dossiers/${id}/progress`, progress(id, 40, 10, `Trả kết quả cho ${personal[1]} ${CITIZEN_ID}`))
  await waitFor('dead-lettered', async () => ((await s.get('operator', '/v1/admin/dlq')).json() as { entries: unknown[] }).entries.length === 1)

  const text = s.logs.join('')
  t.ok(s.logs.length > 20, `the routes did log (${s.logs.length} lines)`)
  t.match(text, /dead-lettered/, 'the delivery failure was logged')
  for (const p of personal) t.notOk(text.includes(p), `no "${p}" in the logs`)
})

t.test('the redaction list censors personal fields that reach a logged object', async (t) => {
  const lines: string[] = []
  const log = createLogger('info', new Writable({ write (c: Buffer, _e, cb) { lines.push(c.toString()); cb() } }))
  log.info({ SoGiayToChuHoSo: CITIZEN_ID, record: { ChuHoSo: 'Nguyễn Thị Bình', SoDienThoai: '0912345678' }, dest: { password: 'p4ss' } }, 'x')
  const line = lines.join('')
  t.notOk(line.includes(CITIZEN_ID))
  t.notOk(line.includes('Nguyễn'))
  t.notOk(line.includes('0912345678'))
  t.notOk(line.includes('p4ss'))
  t.match(line, /\[redacted\]/)
})

t.test('scrub masks numbers and e-mail addresses in free text', async (t) => {
  t.equal(scrub(`Hồ sơ của CCCD ${CITIZEN_ID}, SĐT 0912 345 678, a.b@c.vn`), 'Hồ sơ của CCCD [number], SĐT [number], [email]')
  t.equal(scrub('x'.repeat(500)).length, 300)
})
