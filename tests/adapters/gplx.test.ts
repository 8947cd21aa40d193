import t, { type Test } from 'tap'
import { addDays, GplxAdapter, GplxPoller, GplxClient, gplxDate, statusOf } from '../../adapters/gplx/index.js'
import { GplxSimulator } from '../../adapters/gplx/simulator.js'
import { hoso, startStack, waitFor, type Stack } from '../helpers.js'

const LICENCE = '1.003560.000.00.00.H56'

async function stackWithGplx (t: Test, extra: Record<string, unknown> = {}): Promise<{ s: Stack, gplx: GplxSimulator }> {
  const gplx = await new GplxSimulator().start()
  t.teardown(() => gplx.stop())
  const s = await startStack(t, {
    destinations: {
      gplx: {
        adapter: 'gplx', url: gplx.url, username: gplx.username, password: gplx.password, donViXuLy: 'SGTVT-H56',
        // Rounds are run by hand: each test decides when the ministry is read.
        poll: { member: 'gplx-test', intervalMs: 3_600_000 },
        timeouts: { connectMs: 300, headersMs: 500, bodyMs: 500 },
        ...extra
      }
    }
  })
  return { s, gplx }
}

const statuses = (s: Stack, id: string): unknown[] => (s.dvcqg.dossiers.get(id)?.progress ?? []).map((p) => p.TrangThai)
const due = '20991231170000'

t.test('codes and dates of the ministry: MaTrangThai onto TrangThaiHoSo, dd/MM/yyyy HH:mm:ss onto DVCQG dates', async (t) => {
  t.equal(statusOf('4'), 4)
  t.equal(statusOf(10), 10)
  t.equal(statusOf('15'), undefined, 'an unknown code maps to nothing')
  t.equal(statusOf(''), undefined)
  t.equal(statusOf('15', { 15: 4 }), 4, 'a configured code')
  t.equal(statusOf('9', { 9: 10 }), 10, 'a configured code replaces the built-in one')
  t.equal(gplxDate('05/02/2024 14:30:00'), '20240205143000')
  t.equal(gplxDate('05/02/2024'), '20240205000000')
  t.equal(gplxDate('31/02/2024 10:00:00'), undefined, 'not on the calendar')
  t.equal(gplxDate('2024-02-05 10:00:00'), undefined)
  t.equal(addDays('2024-02-28', 2), '2024-03-01')
  t.equal(addDays('2024-03-01', -1), '2024-02-29')
})

t.test('a dossier received at the ministry enters the ledger; its status codes reach DVCQG and the one-stop in order', async (t) => {
  const { s, gplx } = await stackWithGplx(t)
  const poller = s.gateway.producers.all.find((p): p is GplxPoller => p instanceof GplxPoller)!
  const id = '000.00.01.H56-240201-7777'
  gplx.receive({ maHoSo: id, maTTHC: LICENCE, tenDVC: 'Cấp đổi giấy phép lái xe', hoTen: 'Lê Văn Dũng', soCmnd: '001099012345', hangDaoTao: 'B2', ngayHenTra: due })
  t.equal(await poller.pollOnce(), 1, 'one new dossier')
  await waitFor('at DVCQG', () => s.dvcqg.dossiers.has(id))
  t.match(s.dvcqg.dossiers.get(id)!.record, { MaTTHC: LICENCE, ChuHoSo: 'Lê Văn Dũng', TrangThaiHoSo: '2', SoGiayToChuHoSo: '001099012345', NgayHenTra: due })
  t.match(s.dvcqg.dossiers.get(id)!.record.NgayTiepNhan, /^\d{14}$/, 'the ministry\'s dd/MM/yyyy HH:mm:ss became a DVCQG date')
  t.match(s.dvcqg.dossiers.get(id)!.record.TaiLieuNop, [{ TenTepDinhKem: 'Đơn đề nghị', MaThanhPhanHoSo: 'DON', DuongDanTaiTepTin: `/gplx/${id}/don.pdf` }], 'attachments\' metadata carried')
  await waitFor('at the one-stop', () => (s.onestop.events.get(id) ?? []).some((e) => e.type === 'dossier'))
  gplx.advance(id, '4')
  t.equal(await poller.pollOnce(), 1)
  gplx.advance(id, '9')
  t.equal(await poller.pollOnce(), 1)
  t.equal(await poller.pollOnce(), 0, 'nothing new: nothing applied')
  gplx.advance(id, '10')
  t.equal(await poller.pollOnce(), 1)
  await waitFor('returned at DVCQG', () => statuses(s, id).length === 3)
  t.same(statuses(s, id), ['4', '9', '10'], 'in order at DVCQG')
  await waitFor('the one-stop got all', () => (s.onestop.events.get(id) ?? []).filter((e) => e.type === 'progress').length === 3)
  const view = (await s.get('reader', `/v1/dossiers/${id}`)).json() as { owner: string, TrangThaiHoSo: number }
  t.equal(view.owner, 'gplx-test', 'attributed to the ministry system\'s member')
  t.equal(view.TrangThaiHoSo, 10)
  t.same((await poller.cursor()).open, {}, 'a dossier in a final status is no longer looked up')
  t.equal(s.dvcqg.repeats, 0)
  t.equal(s.onestop.duplicates, 0)
})

t.test('a dossier the one-stop sent is followed at the ministry; "returned" read straight after "processing" is one combined move; reading everything again has no second effect', async (t) => {
  const { s, gplx } = await stackWithGplx(t)
  const poller = s.gateway.producers.all.find((p): p is GplxPoller => p instanceof GplxPoller)!
  const record = hoso(2)
  t.equal((await s.post('onestop', '/v1/dossiers', record)).statusCode, 202)
  gplx.receive({ maHoSo: record.MaHoSo, maTTHC: LICENCE, hoTen: record.ChuHoSo!, soCmnd: record.SoGiayToChuHoSo!, ngayHenTra: due })
  t.equal(await poller.pollOnce(), 0, 'same status as the ledger: nothing to apply')
  gplx.advance(record.MaHoSo, '4')
  t.equal(await poller.pollOnce(), 1)
  gplx.advance(record.MaHoSo, '9')
  gplx.advance(record.MaHoSo, '10')
  t.equal(await poller.pollOnce(), 1, 'one change read')
  await waitFor('both at DVCQG', () => statuses(s, record.MaHoSo).length === 2)
  t.same(statuses(s, record.MaHoSo), ['4', '10'])
  // As after a crash before the cursor moved: read everything again.
  await s.gateway.store.setCursor('gplx:gplx', JSON.stringify({ open: {} }))
  t.equal(await poller.pollOnce(), 0)
  const view = (await s.get('onestop', `/v1/dossiers/${record.MaHoSo}`)).json() as { history: Array<{ to: number }>, deliveries: Record<string, { units: unknown[] }> }
  t.same(view.history.map((e) => e.to), [2, 4, 10], 'each status once in the history')
  t.equal(view.deliveries.dvcqg!.units.length, 3, 'the dossier and two progress messages, nothing twice')
  t.notOk('gplx' in view.deliveries, 'nothing is sent to the ministry (read-only service)')
})

t.test('an unknown MaTrangThai is not applied: logged and reported once; a code configured in statusCodes is applied', async (t) => {
  const { s, gplx } = await stackWithGplx(t, { statusCodes: { 21: 4 } })
  const poller = s.gateway.producers.all.find((p): p is GplxPoller => p instanceof GplxPoller)!
  const id = '000.00.01.H56-240201-7801'
  gplx.receive({ maHoSo: id, maTTHC: LICENCE, hoTen: 'Trần Văn Em', soCmnd: '001099012346', ngayHenTra: due })
  await poller.pollOnce()
  gplx.advance(id, '17', 'Chờ in bằng')
  t.equal(await poller.pollOnce(), 0)
  t.same(poller.last!.unknownCodes, [{ maHoSo: id, code: '17' }], 'reported')
  t.match(s.logs.join(''), /"MaTrangThai":"17".*not in the table/)
  await poller.pollOnce()
  t.same(poller.last!.unknownCodes, [], 'reported once per change, not every round')
  t.equal((await s.gateway.store.dossierState(id))!.state, 2, 'the ledger did not move')
  gplx.advance(id, '21', 'Đang sát hạch')
  t.equal(await poller.pollOnce(), 1)
  t.equal((await s.gateway.store.dossierState(id))!.state, 4)
})

t.test('when the session expires the poller logs in again and carries on', async (t) => {
  const { s, gplx } = await stackWithGplx(t)
  const poller = s.gateway.producers.all.find((p): p is GplxPoller => p instanceof GplxPoller)!
  const id = '000.00.01.H56-240201-7802'
  gplx.receive({ maHoSo: id, maTTHC: LICENCE, hoTen: 'Võ Thị Gấm', soCmnd: '001099012347', ngayHenTra: due })
  await poller.pollOnce()
  t.equal(gplx.logins, 1, 'one session for the whole round')
  gplx.expireSessions()
  gplx.advance(id, '4')
  t.equal(await poller.pollOnce(), 1, 'applied after a fresh login')
  t.equal(gplx.logins, 2)
  t.equal(gplx.sessionRejections, 1, 'the expired session was refused once')
  t.equal((await s.gateway.store.dossierState(id))!.state, 4)
})

t.test('window edges: a dossier the ministry lists late for a day already read is caught by the overlap; a long gap is read in windows of windowDays, resumably', async (t) => {
  const { s, gplx } = await stackWithGplx(t)
  const poller = s.gateway.producers.all.find((p): p is GplxPoller => p instanceof GplxPoller)!
  const vn = (iso: string): number => Date.parse(`${iso}+07:00`)
  gplx.receive({ maHoSo: '000.00.01.H56-240210-0001', maTTHC: LICENCE, hoTen: 'Nguyễn Văn Hải', soCmnd: '001099012348', ngayHenTra: due, receivedAt: vn('2024-02-10T10:00:00') })
  // Received a few seconds before midnight, indexed by the ministry only later.
  gplx.receive({ maHoSo: '000.00.01.H56-240210-0002', maTTHC: LICENCE, hoTen: 'Đỗ Thị Hoa', soCmnd: '001099012349', ngayHenTra: due, receivedAt: vn('2024-02-10T23:59:50'), listed: false })
  poller.clock = () => vn('2024-02-11T00:00:30')
  t.equal(await poller.pollOnce(), 1)
  t.same(gplx.windows, [['2024-02-09', '2024-02-11']], 'the first round reads windowDays back')
  t.equal((await poller.cursor()).through, '2024-02-11')
  gplx.publish('000.00.01.H56-240210-0002')
  poller.clock = () => vn('2024-02-11T00:05:00')
  t.equal(await poller.pollOnce(), 1, 'the late one is read')
  t.same(gplx.windows.at(-1), ['2024-02-10', '2024-02-11'], 'from overlapDays before the cursor')
  t.ok(await s.gateway.store.dossierState('000.00.01.H56-240210-0002'), 'in the ledger')

  // Ten days down: the round walks the gap in windows of three days, each saved as it is read.
  gplx.windows.length = 0
  poller.clock = () => vn('2024-02-21T09:00:00')
  await poller.pollOnce()
  t.same(gplx.windows, [['2024-02-10', '2024-02-12'], ['2024-02-13', '2024-02-15'], ['2024-02-16', '2024-02-18'], ['2024-02-19', '2024-02-21']])
  t.equal((await poller.cursor()).through, '2024-02-21')
})

t.test('while the ministry is overloaded the poller keeps its place, and catches up afterwards', async (t) => {
  const { s, gplx } = await stackWithGplx(t)
  const poller = s.gateway.producers.all.find((p): p is GplxPoller => p instanceof GplxPoller)!
  const id = '000.00.01.H56-240201-7803'
  gplx.receive({ maHoSo: id, maTTHC: LICENCE, hoTen: 'Bùi Văn Khoa', soCmnd: '001099012350', ngayHenTra: due })
  gplx.server.setFaults({ mode: 'error' })
  t.equal(await poller.pollOnce(), 0)
  t.equal(poller.last!.complete, false)
  t.equal((await poller.cursor()).through, undefined, 'the cursor did not move')
  gplx.server.setFaults({ mode: 'error', paths: [gplx.integrationPath] })
  t.equal(await poller.pollOnce(), 0, 'login works, the service does not')
  gplx.server.setFaults({ mode: 'none', paths: [] })
  t.equal(await poller.pollOnce(), 1)
  t.equal(poller.last!.complete, true)
  await waitFor('delivered', () => s.dvcqg.dossiers.has(id))
})

t.test('GPLX failure modes map to codes; the adapter takes nothing from the province', async (t) => {
  const gplx = await new GplxSimulator({ token: 'gplx-bearer-token' }).start()
  t.teardown(() => gplx.stop())
  const settings = (password: string, token?: string): ConstructorParameters<typeof GplxClient>[0] => ({
    url: gplx.url, username: gplx.username, password, donViXuLy: 'SGTVT-H56', timeouts: { connectMs: 300, headersMs: 300, bodyMs: 300 }, ...(token === undefined ? {} : { token })
  })
  const client = new GplxClient(settings(gplx.password, 'gplx-bearer-token'))
  t.teardown(() => client.close())
  gplx.receive({ maHoSo: '000.00.01.H56-240201-7804', maTTHC: LICENCE, hoTen: 'Lý Thị Mai', soCmnd: '001099012351', ngayHenTra: due })
  t.match(await client.lookUp('000.00.01.H56-240201-7804'), { ok: true, detail: { MaTrangThai: '2' } })
  t.match(await client.lookUp('000.00.01.H56-240201-0000'), { ok: true, detail: undefined }, 'data: [] is "not found"')
  t.match(await client.list('2000-01-01', '2000-01-02'), { ok: true, items: [] })

  const wrong = new GplxClient(settings('wrong-password', 'gplx-bearer-token'))
  t.match(await wrong.list('2024-02-01', '2024-02-02'), { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED', message: /login refused/ })
  await wrong.close()
  const noToken = new GplxClient(settings(gplx.password))
  t.match(await noToken.list('2024-02-01', '2024-02-02'), { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED', message: /HTTP 401/ })
  await noToken.close()

  gplx.server.setFaults({ mode: 'error' })
  t.match(await client.lookUp('x'), { ok: false, code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE' })
  gplx.server.setFaults({ mode: 'hang' })
  t.match(await client.lookUp('x'), { ok: false, code: 'LGSP_ERR_UPSTREAM_TIMEOUT' })
  gplx.server.setFaults({ mode: 'drop' })
  t.match(await client.lookUp('x'), { ok: false, code: 'LGSP_ERR_UPSTREAM_NETWORK' })
  gplx.server.setFaults({ mode: 'slow', delayMs: 2500 })
  t.match(await client.lookUp('x'), { ok: false, code: 'LGSP_ERR_UPSTREAM_TIMEOUT' })
  gplx.server.setFaults({ mode: 'none' })

  const adapter = new GplxAdapter('gplx', { adapter: 'gplx', ...settings(gplx.password), concurrency: 1, authPath: gplx.authPath, integrationPath: gplx.integrationPath, statusCodes: {}, timeouts: { connectMs: 300, headersMs: 300, bodyMs: 300 }, poll: { member: 'x', intervalMs: 1000, windowDays: 3, overlapDays: 1, followDays: 60 } })
  t.teardown(() => adapter.close())
  t.same(adapter.units(), [], 'no delivery unit for a dossier')
  t.match(await adapter.deliver(), { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED' })
})
