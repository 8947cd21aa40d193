import t, { type Test } from 'tap'
import { GplxAdapter, GplxSimulator } from '../../adapters/gplx/index.js'
import type { GplxDestination } from '../../schemas/types.js'
import { hoso, startStack, waitFor, type Stack } from '../helpers.js'

async function stackWithGplx (t: Test, intervalMs = 50): Promise<{ s: Stack, gplx: GplxSimulator }> {
  const gplx = await new GplxSimulator().start()
  t.teardown(() => gplx.stop())
  const s = await startStack(t, { destinations: { gplx: { adapter: 'gplx', url: gplx.url, apiKey: gplx.apiKey, poll: { member: 'gplx-test', intervalMs }, timeouts: { connectMs: 300, headersMs: 500, bodyMs: 500 } } } })
  return { s, gplx }
}

const statuses = (s: Stack, id: string): unknown[] => (s.dvcqg.dossiers.get(id)?.progress ?? []).map((p) => p.TrangThai)

t.test('a driver-licence dossier reaches the ministry; its status changes there flow back to the one-stop and DVCQG in order', async (t) => {
  const { s, gplx } = await stackWithGplx(t)
  const record = hoso(1)
  const res = await s.post('onestop', '/v1/dossiers', record)
  t.same(res.json().destinations, ['dvcqg', 'gplx'], 'routed by procedure')
  await waitFor('at the ministry', () => gplx.records.has(record.MaHoSo))
  t.match(gplx.records.get(record.MaHoSo), { maTTHC: record.MaTTHC, hoTen: record.ChuHoSo, soCmnd: record.SoGiayToChuHoSo })
  gplx.advance(record.MaHoSo, 'DANG_XU_LY')
  gplx.advance(record.MaHoSo, 'HOAN_THANH')
  await waitFor('result at DVCQG', () => statuses(s, record.MaHoSo).includes('9'))
  gplx.advance(record.MaHoSo, 'DA_TRA_KET_QUA')
  await waitFor('returned at DVCQG', () => statuses(s, record.MaHoSo).length === 3)
  t.same(statuses(s, record.MaHoSo), ['4', '9', '10'], 'in order at DVCQG')
  await waitFor('the one-stop got all three', () => (s.onestop.events.get(record.MaHoSo) ?? []).length === 3)
  t.same(s.onestop.events.get(record.MaHoSo)!.map((e) => (e.data as Array<{ TrangThai: number }>)[0]!.TrangThai), [4, 9, 10], 'in order at the one-stop')
  const view = (await s.get('onestop', `/v1/dossiers/${record.MaHoSo}`)).json() as { TrangThaiHoSo: number }
  t.equal(view.TrangThaiHoSo, 10)
  t.equal(s.dvcqg.repeats, 0)
  t.equal(s.onestop.duplicates, 0)
})

t.test('steps missed between two polls are replayed in order; reading them again has no second effect', async (t) => {
  const { s, gplx } = await stackWithGplx(t, 3_600_000)
  const poller = s.gateway.pollers[0]!
  const record = hoso(2)
  await s.post('onestop', '/v1/dossiers', record)
  await waitFor('at the ministry', () => gplx.records.has(record.MaHoSo))
  gplx.advance(record.MaHoSo, 'DANG_XU_LY')
  gplx.advance(record.MaHoSo, 'HOAN_THANH')
  gplx.advance(record.MaHoSo, 'DA_TRA_KET_QUA')
  t.equal(await poller.pollOnce(), 1, 'one changed dossier')
  await waitFor('all three at DVCQG', () => statuses(s, record.MaHoSo).length === 3)
  t.same(statuses(s, record.MaHoSo), ['4', '9', '10'])
  // As after a crash before the cursor moved: read everything again.
  await s.gateway.store.setCursor('gplx:gplx', '0')
  await poller.pollOnce()
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(statuses(s, record.MaHoSo).length, 3, 'nothing delivered twice')
  t.equal(await s.gateway.store.getCursor('gplx:gplx'), '3', 'the cursor is stored')
})

t.test('a dossier submitted at the ministry enters the ledger and reaches DVCQG and the one-stop', async (t) => {
  const { s, gplx } = await stackWithGplx(t)
  const id = '000.00.01.H56-240201-7777'
  gplx.submitHere({ maHoSo: id, maTTHC: '1.002809.000.00.00.H56', tenTTHC: 'Cấp mới giấy phép lái xe', hoTen: 'Lê Văn Dũng', soCmnd: '001099012345', trangThai: 'TIEP_NHAN', ngayTiepNhan: '20240201080000', ngayHenTra: '20240215170000' })
  await waitFor('at DVCQG', () => s.dvcqg.dossiers.has(id))
  t.match(s.dvcqg.dossiers.get(id)!.record, { MaTTHC: '1.002809.000.00.00.H56', ChuHoSo: 'Lê Văn Dũng', TrangThaiHoSo: '2' })
  await waitFor('at the one-stop', () => (s.onestop.events.get(id) ?? []).some((e) => e.type === 'dossier'))
  const view = (await s.get('reader', `/v1/dossiers/${id}`)).json() as { owner: string }
  t.equal(view.owner, 'gplx-test', 'attributed to the ministry system\'s member')
  t.equal(gplx.repeats, 0, 'not sent back to the ministry it came from')
})

t.test('while the ministry is overloaded the poller keeps its place, and catches up afterwards', async (t) => {
  const { s, gplx } = await stackWithGplx(t, 3_600_000)
  const poller = s.gateway.pollers[0]!
  const record = hoso(3)
  await s.post('onestop', '/v1/dossiers', record)
  await waitFor('at the ministry', () => gplx.records.has(record.MaHoSo))
  gplx.advance(record.MaHoSo, 'DANG_XU_LY')
  gplx.server.setFaults({ mode: 'error' })
  t.equal(await poller.pollOnce(), 0)
  t.equal(await s.gateway.store.getCursor('gplx:gplx'), undefined, 'the cursor did not move')
  gplx.server.setFaults({ mode: 'none' })
  t.equal(await poller.pollOnce(), 1)
  await waitFor('delivered', () => statuses(s, record.MaHoSo).length === 1)
})

t.test('GPLX failure modes map to codes; a repeated submission counts as held', async (t) => {
  const gplx = await new GplxSimulator().start()
  t.teardown(() => gplx.stop())
  const cfg = (apiKey: string): GplxDestination => ({ adapter: 'gplx', url: gplx.url, apiKey, concurrency: 2, timeouts: { connectMs: 300, headersMs: 300, bodyMs: 300 }, poll: { member: 'x', intervalMs: 1000, batch: 10 } })
  const adapter = new GplxAdapter('gplx', cfg(gplx.apiKey))
  t.teardown(() => adapter.close())
  const [plan] = adapter.units({ kind: 'dossier', messageId: 'm', sender: 's', record: hoso(9), existed: false })
  const unit = { id: 1, maHoSo: hoso(9).MaHoSo, messageId: 'm', op: plan!.op, payload: plan!.payload, attempts: 1, uncertain: false }
  t.match(await adapter.deliver(unit), { ok: true })
  t.match(await adapter.deliver(unit), { ok: true, note: /already held/ })
  t.same(adapter.units({ kind: 'progress', messageId: 'm', sender: 's', maHoSo: 'x', entries: [] }), [], 'progress is not sent to the ministry')
  const wrong = new GplxAdapter('gplx', cfg('wrong-api-key'))
  t.match(await wrong.deliver(unit), { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED' })
  t.match(await wrong.client.changes(0, 10), { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED' })
  await wrong.close()
  gplx.server.setFaults({ mode: 'error' })
  t.match(await adapter.deliver(unit), { ok: false, code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE' })
  gplx.server.setFaults({ mode: 'hang' })
  t.match(await adapter.client.lookUp(hoso(9).MaHoSo), { ok: false, code: 'LGSP_ERR_UPSTREAM_TIMEOUT' })
})
