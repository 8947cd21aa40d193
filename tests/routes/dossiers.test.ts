import t from 'tap'
import { at, hoso, progress, startStack, waitFor, waitForQueuesDrained } from '../helpers.js'

t.test('a dossier and its progress posted by the one-stop arrive at DVCQG with DVCQG fields, in order', async (t) => {
  const s = await startStack(t)
  const record = hoso(1)
  const res = await s.post('onestop', '/v1/dossiers', record)
  t.equal(res.statusCode, 202)
  const reply = res.json() as { messageId: string, receivedAt: string, destinations: string[] }
  t.match(reply.messageId, /^[0-9a-f-]{36}$/)
  t.same(reply.destinations, ['dvcqg'])
  t.equal(res.headers.location, `/v1/dossiers/${record.MaHoSo}`)

  // Out of order on purpose: the gateway sends them by ThoiDiemXuLy.
  const entries = [progress(record.MaHoSo, 120, 9, 'Đã xử lý xong'), progress(record.MaHoSo, 60, 4, 'Chuyển phòng chuyên môn')]
  t.equal((await s.post('onestop', `/v1/dossiers/${record.MaHoSo}/progress`, entries)).statusCode, 202)
  t.equal((await s.post('onestop', `/v1/dossiers/${record.MaHoSo}/progress`, progress(record.MaHoSo, 180, 10, 'Đã trả kết quả'))).statusCode, 202)

  await waitFor('three progress entries at DVCQG', () => (s.dvcqg.dossiers.get(record.MaHoSo)?.progress.length ?? 0) === 3)
  const held = s.dvcqg.dossiers.get(record.MaHoSo)!
  t.equal(held.record.MaHoSo, record.MaHoSo)
  // The simulator shows the status of the latest progress call, as a string.
  t.equal(held.record.TrangThaiHoSo, '10', 'codes go out as DVCQG strings')
  t.equal(held.record.SoGiayToChuHoSo, record.SoGiayToChuHoSo)
  t.same(held.record.DanhSachLePhi, record.DanhSachLePhi)
  t.same(held.record.TaiLieuNop, record.TaiLieuNop)
  t.same(s.dvcqg.arrivals.get(record.MaHoSo), [at(60), at(120), at(180)], 'progress in ThoiDiemXuLy order')
  t.same(held.progress.map((p) => p.TrangThai), ['4', '9', '10'])
  t.equal(s.dvcqg.repeats, 0)
  t.equal(s.dvcqg.calls.DongBoHoSoMC, 1)

  const view = (await s.get('onestop', `/v1/dossiers/${record.MaHoSo}`)).json() as Record<string, any>
  t.equal(view.TrangThaiHoSo, 10)
  t.equal(view.stateName, 'đã trả kết quả')
  t.same(view.history.map((h: any) => [h.kind, h.from, h.to, h.applied]), [['dossier', null, 2, true], ['progress', 2, 4, true], ['progress', 4, 9, true], ['progress', 9, 10, true]])
  t.equal(view.deliveries.dvcqg.state, 'delivered')
  t.equal(view.deliveries.dvcqg.units.length, 3)
})

t.test('an update of a known dossier goes to DVCQG as isUpdating "True"', async (t) => {
  const s = await startStack(t)
  const record = hoso(2)
  await s.post('onestop', '/v1/dossiers', record)
  await s.post('onestop', '/v1/dossiers', { ...record, TrangThaiHoSo: '4' })
  await waitFor('update applied', () => s.dvcqg.dossiers.get(record.MaHoSo)?.updates === 1)
  t.equal(s.dvcqg.dossiers.get(record.MaHoSo)!.record.TrangThaiHoSo, '4')
  t.equal(s.dvcqg.dossiers.get(record.MaHoSo)!.creates, 1)
})

t.test('a create for a dossier DVCQG already holds turns into an update', async (t) => {
  const s = await startStack(t)
  const record = hoso(3)
  s.dvcqg.dossiers.set(record.MaHoSo, { record: { MaHoSo: record.MaHoSo, old: true }, progress: [], creates: 1, updates: 0 })
  t.equal((await s.post('onestop', '/v1/dossiers', record)).statusCode, 202)
  await waitFor('converted to update', () => s.dvcqg.dossiers.get(record.MaHoSo)?.updates === 1)
  t.equal(s.dvcqg.dossiers.get(record.MaHoSo)!.record.TenTTHC, record.TenTTHC)
})

t.test('an array of dossiers is accepted as one message', async (t) => {
  const s = await startStack(t)
  const res = await s.post('onestop', '/v1/dossiers', [hoso(10), hoso(11), hoso(12)])
  t.equal(res.statusCode, 202)
  t.equal(res.headers.location, undefined)
  await waitFor('three dossiers at DVCQG', () => s.dvcqg.dossiers.size === 3)
})

/** A 202 reply with its receipt's statement but without the signature and proof (which depend on the batch). */
const withoutSignature = (reply: { receipt?: { statement: unknown } }): unknown => ({ ...reply, receipt: reply.receipt?.statement })

t.test('a repeat with the same Idempotency-Key gets the first reply and no second delivery', async (t) => {
  const s = await startStack(t)
  const record = hoso(20)
  const first = await s.post('onestop', '/v1/dossiers', record, { 'idempotency-key': 'k-20' })
  const again = await s.post('onestop', '/v1/dossiers', record, { 'idempotency-key': 'k-20' })
  t.equal(again.statusCode, 202)
  // The same reply, and a receipt (signed anew) for the same statement: the message as first accepted.
  t.same(withoutSignature(again.json()), withoutSignature(first.json()))
  t.equal(again.headers['idempotent-replayed'], 'true')
  await waitFor('delivered', () => s.dvcqg.dossiers.has(record.MaHoSo))
  // A second delivery would have been queued by the repeat: once the queues drain it would have happened.
  await waitForQueuesDrained(s)
  t.equal(s.dvcqg.calls.DongBoHoSoMC, 1)
  const view = (await s.get('onestop', `/v1/dossiers/${record.MaHoSo}`)).json() as Record<string, any>
  t.equal(view.history.length, 1, 'one ledger entry')

  const reused = await s.post('onestop', '/v1/dossiers', { ...record, TrangThaiHoSo: '4' }, { 'idempotency-key': 'k-20' })
  t.equal(reused.statusCode, 422)
  t.equal(reused.json().code, 'LGSP_ERR_IDEMPOTENCY_KEY_REUSED')
})

t.test('without a key, the same sender, dossier and content is the same message', async (t) => {
  const s = await startStack(t)
  const record = hoso(21)
  const [a, b] = await Promise.all([s.post('onestop', '/v1/dossiers', record), s.post('onestop', '/v1/dossiers', record)])
  t.same(withoutSignature(a.json()), withoutSignature(b.json()), 'concurrent repeats get one answer')
  await waitFor('delivered', () => s.dvcqg.dossiers.has(record.MaHoSo))
  await waitForQueuesDrained(s)
  t.equal(s.dvcqg.calls.DongBoHoSoMC, 1)
})

t.test('an out-of-order progress entry is kept in the history but never moves the state backwards', async (t) => {
  const s = await startStack(t)
  const record = hoso(30)
  await s.post('onestop', '/v1/dossiers', record)
  await s.post('onestop', `/v1/dossiers/${record.MaHoSo}/progress`, progress(record.MaHoSo, 100, 4))
  await s.post('onestop', `/v1/dossiers/${record.MaHoSo}/progress`, progress(record.MaHoSo, 200, 5, 'Yêu cầu bổ sung'))
  const late = await s.post('onestop', `/v1/dossiers/${record.MaHoSo}/progress`, progress(record.MaHoSo, 150, 4, 'Bản ghi đến muộn'))
  t.equal(late.statusCode, 202)
  const view = (await s.get('onestop', `/v1/dossiers/${record.MaHoSo}`)).json() as Record<string, any>
  t.equal(view.TrangThaiHoSo, 5, 'still waiting for the supplement')
  const last = view.history.at(-1)
  t.same([last.to, last.applied], [4, false])
  // 5 → 4 when the supplement arrives is legal.
  t.equal((await s.post('onestop', `/v1/dossiers/${record.MaHoSo}/progress`, progress(record.MaHoSo, 300, 4, 'Đã bổ sung'))).statusCode, 202)
})

t.test('progress from a vertical system reaches both DVCQG and the one-stop webhook', async (t) => {
  const s = await startStack(t)
  const record = hoso(40)
  await s.post('onestop', '/v1/dossiers', record)
  const res = await s.post('vertical', `/v1/dossiers/${record.MaHoSo}/progress`, progress(record.MaHoSo, 60, 4, 'Sát hạch'))
  t.equal(res.statusCode, 202)
  t.same(res.json().destinations, ['dvcqg', 'onestop'])
  await waitFor('webhook event', () => (s.onestop.events.get(record.MaHoSo)?.length ?? 0) === 1)
  const event = s.onestop.events.get(record.MaHoSo)![0]!
  t.equal(event.type, 'progress')
  t.equal(event.sender, 'gplx-test')
  t.same((event.data as any[]).map((e) => e.NoiDungXuLy), ['Sát hạch'])
  await waitFor('DVCQG progress', () => s.dvcqg.dossiers.get(record.MaHoSo)?.progress.length === 1)
})

t.test('progress of more than 10 entries goes to DVCQG in chunks of 10', async (t) => {
  const s = await startStack(t)
  const record = hoso(50)
  await s.post('onestop', '/v1/dossiers', record)
  const entries = Array.from({ length: 23 }, (_, i) => progress(record.MaHoSo, 10 + i, 4, `Bước ${i + 1}`))
  t.equal((await s.post('onestop', `/v1/dossiers/${record.MaHoSo}/progress`, entries)).statusCode, 202)
  await waitFor('all 23 entries', () => s.dvcqg.dossiers.get(record.MaHoSo)?.progress.length === 23)
  t.equal(s.dvcqg.calls.CapNhatTienDoHoSoMC, 3)
})

t.test('members read their own dossiers; readers with "all" read any', async (t) => {
  const s = await startStack(t)
  const record = hoso(60)
  await s.post('onestop', '/v1/dossiers', record)
  t.equal((await s.get('reader', `/v1/dossiers/${record.MaHoSo}`)).statusCode, 200)
  t.equal((await s.get('operator', `/v1/dossiers/${record.MaHoSo}`)).statusCode, 200)
  const notFound = await s.get('onestop', '/v1/dossiers/000.00.01.H56-240201-9999')
  t.equal(notFound.statusCode, 404)
  t.equal(notFound.json().code, 'LGSP_ERR_DOSSIER_NOT_FOUND')
})
