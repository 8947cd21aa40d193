import t from 'tap'
import { parsePeriod } from '../gateway/ledger/indicators.js'
import { formatDvcqgDate, WorkingCalendar } from '../gateway/ledger/dates.js'
import type { HoSo } from '../schemas/types.js'
import { hoso, progress, startStack, waitFor, type Stack } from './helpers.js'

const AGENCY = '000.00.01.H56'
// 2024-02 in Vietnam time; the fixtures' base time is 2024-02-01 08:00.
const d = (day: number, hour = 8): string => `202402${String(day).padStart(2, '0')}${String(hour).padStart(2, '0')}0000`

async function indicators (s: Stack, period = '2024-02', drill = true): Promise<Record<string, any>> {
  const res = await s.get('reader', `/v1/indicators?agency=${AGENCY}&period=${period}&drill=${drill}`)
  if (res.statusCode !== 200) throw new Error(res.body)
  return res.json()
}

const ind = (r: Record<string, any>, key: string): Record<string, any> => r.report.indicators.find((i: any) => i.key === key)

t.test('the working calendar skips weekends and holidays and counts make-up days', async (t) => {
  const cal = new WorkingCalendar({ weekend: [0, 6], holidays: ['2024-02-12'], workingDays: ['2024-02-17'] })
  const fri = Date.UTC(2024, 1, 9, 1) // Friday 2024-02-09 08:00 VN
  t.equal(formatDvcqgDate(cal.addWorkingDays(fri, 1)), '20240213080000', 'Sat, Sun and the Monday holiday are skipped')
  t.equal(formatDvcqgDate(cal.addWorkingDays(Date.UTC(2024, 1, 16, 1), 1)), '20240217080000', 'a make-up Saturday counts')
  t.same(parsePeriod('2024-Q1'), { label: '2024-Q1', from: Date.UTC(2023, 11, 31, 17), to: Date.UTC(2024, 2, 31, 17) })
  t.throws(() => parsePeriod('2024-13'), { code: 'LGSP_ERR_REQUEST_BAD_PARAMETER' })
})

t.test('hand-made edge cases give the expected figures', async (t) => {
  const s = await startStack(t)
  const post = async (r: HoSo): Promise<void> => { t.equal((await s.post('onestop', '/v1/dossiers', r)).statusCode, 202, r.MaHoSo) }
  const step = async (id: string, entries: ReturnType<typeof progress>[]): Promise<void> => {
    t.equal((await s.post('onestop', `/v1/dossiers/${id}/progress`, entries)).statusCode, 202)
  }
  const at = (id: string, when: string, status: 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10, text = 'x') => ({ ...progress(id, 0, status, text), ThoiDiemXuLy: when })
  // A: resolved exactly at NgayHenTra: on time. Online, paid online, digitised with a result.
  const a = hoso(1, { NgayTiepNhan: d(1), NgayHenTra: d(5, 17), DuocThanhToanTrucTuyen: '1', DanhSachGiayToKetQua: [{ TenGiayTo: 'GPLX', DuongDanTepTinKetQua: 'https://dvc.example/kq/gplx.pdf' }] })
  await post(a)
  await step(a.MaHoSo, [at(a.MaHoSo, d(2), 4), at(a.MaHoSo, d(5, 17), 9)])
  // B: two supplements: overdue, whatever the dates. In person.
  const b = hoso(2, { NgayTiepNhan: d(1), NgayHenTra: d(20), KenhThucHien: '1' })
  await post(b)
  await step(b.MaHoSo, [at(b.MaHoSo, d(2), 4), at(b.MaHoSo, d(3), 5), at(b.MaHoSo, d(4), 4), at(b.MaHoSo, d(5), 5), at(b.MaHoSo, d(6), 4), at(b.MaHoSo, d(7), 9)])
  // C: one supplement that waited 10 days: finished after NgayHenTra but within it once the wait is not counted.
  const c = hoso(3, { NgayTiepNhan: d(1), NgayHenTra: d(8) })
  await post(c)
  await step(c.MaHoSo, [at(c.MaHoSo, d(2), 5), at(c.MaHoSo, d(12), 4), at(c.MaHoSo, d(15), 9)])
  // D: finished after the period ends, due within it: judged at the period's end, overdue.
  const dd = hoso(4, { NgayTiepNhan: d(20), NgayHenTra: d(26) })
  await post(dd)
  await step(dd.MaHoSo, [at(dd.MaHoSo, d(21), 4), at(dd.MaHoSo, '20240305080000', 9)])
  // E: all fees 0: not in the online-payment denominator. Unfinished, due after the period: on time at its end.
  const e = hoso(5, { NgayTiepNhan: d(27), NgayHenTra: '20240310170000', DanhSachLePhi: [{ TenPhiLePhi: 'Miễn phí', Gia: 0 }] })
  await post(e)
  // F: withdrawn: received, but not judged for timeliness.
  const f = hoso(6, { NgayTiepNhan: d(2), NgayHenTra: d(9) })
  await post(f)
  await step(f.MaHoSo, [at(f.MaHoSo, d(3), 7, 'Công dân rút hồ sơ')])
  // G: received in January: not in February's received figures.
  const g = hoso(7, { NgayTiepNhan: '20240115080000', NgayHenTra: '20240120170000' })
  await post(g)
  await step(g.MaHoSo, [at(g.MaHoSo, '20240119080000', 9)])

  await waitFor('all synced with DVCQG', () => [a, b, c, dd, e, f, g].every((r) => s.dvcqg.dossiers.has(r.MaHoSo)))
  await waitFor('synced facts recorded', async () => ind(await indicators(s), 'dossierSync').numerator === 6)
  const r = await indicators(s)
  t.equal(r.closed, false)
  t.equal(r.report.received, 6, 'A–F received in February')
  t.match(ind(r, 'onTime'), { numerator: 3, denominator: 5, rate: 0.6, points: 12 }, 'A, C, E on time; B (two supplements) and D (late at period end) not; F withdrawn')
  t.same(ind(r, 'onTime').dossiers.numerator, [a.MaHoSo, c.MaHoSo, e.MaHoSo].sort())
  t.match(ind(r, 'dossierSync'), { numerator: 6, denominator: 6, rate: 1, points: 6 })
  t.match(ind(r, 'onlineSubmission'), { numerator: 5, denominator: 6, rate: 0.8333, points: 6 }, '5 of 6 online, times a full sync rate, above the 50% target')
  t.match(ind(r, 'paidOnline'), { numerator: 1, denominator: 5, rate: 0.2, points: 1.2 }, 'E has all fees 0')
  t.match(ind(r, 'digitisedResults'), { numerator: 1, denominator: 6, points: 0.83 })
  t.match(ind(r, 'reuse'), { numerator: 6, denominator: 6, points: 2 })
  t.match(r.report.groups.find((x: any) => x.group === 'digitisation'), { points: 2.83, scoredMax: 6 })
  const jan = await indicators(s, '2024-01')
  t.match(ind(jan, 'onTime'), { numerator: 1, denominator: 1 })
  t.equal((await s.get('onestop', `/v1/indicators?agency=${AGENCY}&period=2024-02`)).statusCode, 403, 'one-stop members cannot pull indicators')
  t.equal((await s.get('reader', `/v1/indicators?agency=${AGENCY}&period=02-2024`)).json().code, 'LGSP_ERR_REQUEST_BAD_PARAMETER')
})

t.test('a closed period gets a numbered revision for a late event, never a silent rewrite', async (t) => {
  const s = await startStack(t)
  const a = hoso(1, { NgayTiepNhan: d(1), NgayHenTra: d(25) })
  await s.post('onestop', '/v1/dossiers', a)
  // Closed once DVCQG holds it, so that only the late event can change the figures.
  await waitFor('delivered to DVCQG', async () => (await s.get('onestop', `/v1/dossiers/${a.MaHoSo}`)).json().deliveries.dvcqg?.state === 'delivered')
  const closed = (await s.post('operator', '/v1/indicators/close', { agency: AGENCY, period: '2024-02' })).json() as Record<string, any>
  t.match(closed, { closed: true, revision: 1 })
  t.match(ind(closed, 'onTime'), { numerator: 0, denominator: 1 }, 'unfinished at the period end, past its due date: overdue')
  t.equal((await indicators(s, '2024-02', false)).changes, undefined, 'no pending changes right after the close')
  // A late event: it was finished on the 20th, within its due date, but reported after the close.
  await s.post('onestop', `/v1/dossiers/${a.MaHoSo}/progress`, { ...progress(a.MaHoSo, 0, 9), ThoiDiemXuLy: d(20) })
  await waitFor('the late event moved the figures', async () => (await indicators(s, '2024-02', false)).changes !== undefined)

  // Reads never write: both answer revision 1 with the same pending changes, and the store still holds revision 1.
  const first = await indicators(s, '2024-02', false)
  const second = await indicators(s, '2024-02', false)
  for (const read of [first, second]) {
    t.match(read, { closed: true, revision: 1 })
    t.equal(ind(read, 'onTime').numerator, 0, 'the figures of revision 1')
    t.match(read.changes, [{ indicator: 'onTime', before: { numerator: 0 }, after: { numerator: 1 }, numerator: { added: [a.MaHoSo] } }])
    t.equal(read.changes.length, 1)
  }
  t.same(second, first, 'a second read answers the same')
  t.equal((await s.gateway.store.latestRevision(AGENCY, '2024-02'))?.revision, 1, 'no revision written by a GET')

  // Closing again revises: the pending changes become revision 2.
  const revised = (await s.post('operator', '/v1/indicators/close', { agency: AGENCY, period: '2024-02' })).json() as Record<string, any>
  t.match(revised, { closed: true, revision: 2 })
  t.match(revised.changes, [{ indicator: 'onTime', before: { numerator: 0 }, after: { numerator: 1 }, numerator: { added: [a.MaHoSo] } }])
  t.equal(ind(revised, 'onTime').numerator, 1)
  const after = await indicators(s, '2024-02', false)
  t.match(after, { closed: true, revision: 2 })
  t.equal(after.changes, undefined, 'nothing pending once revised')
  t.equal(ind(after, 'onTime').numerator, 1)
  const same = (await s.post('operator', '/v1/indicators/close', { agency: AGENCY, period: '2024-02' })).json() as Record<string, any>
  t.equal(same.revision, 2, 'no new revision without a change')
})

t.test('the one-stop compares its own list with the ledger, dossier by dossier', async (t) => {
  const s = await startStack(t)
  const a = hoso(1, { NgayTiepNhan: d(1), NgayHenTra: d(25) })
  const b = hoso(2, { NgayTiepNhan: d(2), NgayHenTra: d(25) })
  const c = hoso(3, { NgayTiepNhan: d(3), NgayHenTra: d(25) })
  for (const r of [a, b, c]) await s.post('onestop', '/v1/dossiers', r)
  await s.post('onestop', `/v1/dossiers/${b.MaHoSo}/progress`, { ...progress(b.MaHoSo, 0, 4), ThoiDiemXuLy: d(4) })
  const theirs = [
    { MaHoSo: a.MaHoSo, TrangThaiHoSo: '2' },
    { MaHoSo: b.MaHoSo, TrangThaiHoSo: 9 }, // the one-stop thinks it is finished: the gateway never got that
    { MaHoSo: hoso(9).MaHoSo, TrangThaiHoSo: '2' } // never reached the gateway
  ]
  const res = await s.post('onestop', '/v1/reconcile/onestop', { agency: AGENCY, period: '2024-02', dossiers: theirs })
  t.equal(res.statusCode, 200)
  const r = res.json() as Record<string, any>
  t.match(r, { onestop: 3, gateway: 3, matching: 1 })
  t.same(r.differences.map((x: any) => [x.maHoSo, x.kind, x.onestopState, x.gatewayState]).sort(), [
    [b.MaHoSo, 'stale', 9, 4], [hoso(9).MaHoSo, 'missing-in-gateway', 2, null], [c.MaHoSo, 'missing-at-onestop', null, 2]
  ].sort())
  t.equal((await s.post('reader', '/v1/reconcile/onestop', { agency: AGENCY, period: '2024-02', dossiers: [] })).json().code, 'LGSP_ERR_AUTH_KIND_FORBIDDEN')
  t.equal((await s.post('onestop', '/v1/reconcile/onestop', { agency: AGENCY, period: '2024-02', dossiers: [{ MaHoSo: 'x' }] })).json().code, 'LGSP_ERR_REQUEST_INVALID')
})

t.test('with indicators turned off, no facts are kept and the routes are absent', async (t) => {
  const s = await startStack(t, { configExtra: { indicators: { enabled: false } } })
  t.equal((await s.post('onestop', '/v1/dossiers', hoso(1))).statusCode, 202)
  t.equal(s.gateway.statistics, undefined)
  t.equal((await s.get('reader', `/v1/indicators?agency=${AGENCY}&period=2024-02`)).json().code, 'LGSP_ERR_REQUEST_NOT_FOUND')
  t.same(await s.gateway.store.factsFor({ codes: [AGENCY] }, Date.UTC(2024, 0, 1), Date.UTC(2024, 3, 1)), [])
})
