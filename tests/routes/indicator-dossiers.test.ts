/**
 * The drill-down a portal pulls (GET /v1/indicators/dossiers: per dossier its dates, their
 * source fields, verdict and reason; JSON or CSV), the figures as CSV, and the rule profile:
 * chosen in the config, recorded in each closed period's revision, and a profile change on a
 * closed period made a new revision, never a rewrite of the old one.
 */
import t from 'tap'
import { Statistics } from '../../gateway/statistics.js'
import { createLogger } from '../../gateway/logger.js'
import type { HoSo } from '../../schemas/types.js'
import { hoso, progress, startStack, waitFor, type Stack } from '../helpers.js'

const AGENCY = '000.00.01.H56'
const d = (day: number, hour = 8): string => `202402${String(day).padStart(2, '0')}${String(hour).padStart(2, '0')}0000`
const at = (id: string, when: string, status: 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10) => ({ ...progress(id, 0, status), ThoiDiemXuLy: when })

async function month (t: Parameters<typeof startStack>[0], s: Stack): Promise<Record<string, HoSo>> {
  const post = async (r: HoSo): Promise<void> => { t.equal((await s.post('onestop', '/v1/dossiers', r)).statusCode, 202, r.MaHoSo) }
  const step = async (id: string, entries: ReturnType<typeof at>[]): Promise<void> => { t.equal((await s.post('onestop', `/v1/dossiers/${id}/progress`, entries)).statusCode, 202) }
  const file = { TenTepDinhKem: 'Đơn.pdf', DuocSoHoa: '1' as const }
  // late: due Monday the 5th 17:00, processed Wednesday the 7th 17:00: two working days late.
  const late = hoso(1, { NgayTiepNhan: d(1), NgayHenTra: d(5, 17), TaiLieuNop: [file], DanhSachGiayToKetQua: [{ TenGiayTo: 'Kết quả', DuongDanTepTinKetQua: 'https://dvc.example/kq/1.pdf' }] })
  await post(late)
  await step(late.MaHoSo, [at(late.MaHoSo, d(2), 4), at(late.MaHoSo, d(7, 17), 9)])
  // twice: two supplement requests, finished early: overdue all the same.
  const twice = hoso(2, { NgayTiepNhan: d(1), NgayHenTra: d(20) })
  await post(twice)
  await step(twice.MaHoSo, [at(twice.MaHoSo, d(2), 5), at(twice.MaHoSo, d(3), 4), at(twice.MaHoSo, d(4), 5), at(twice.MaHoSo, d(5), 4), at(twice.MaHoSo, d(6), 9)])
  // noFile: on time; a result listed without its file: not digitised.
  const noFile = hoso(3, { NgayTiepNhan: d(1), NgayHenTra: d(20), TaiLieuNop: [file], DanhSachGiayToKetQua: [{ TenGiayTo: 'Kết quả' }] })
  await post(noFile)
  await step(noFile.MaHoSo, [at(noFile.MaHoSo, d(2), 4), at(noFile.MaHoSo, d(10), 9)])
  // sameDay: due the 12th at 08:00, processed the 12th at 16:00: late to the second, on time by day.
  const sameDay = hoso(4, { NgayTiepNhan: d(1), NgayHenTra: d(12, 8) })
  await post(sameDay)
  await step(sameDay.MaHoSo, [at(sameDay.MaHoSo, d(2), 4), at(sameDay.MaHoSo, d(12, 16), 9)])
  return { late, twice, noFile, sameDay }
}

t.test('the drill-down gives each dossier its dates, their sources, its verdict and a reason, as JSON or CSV', async (t) => {
  const s = await startStack(t)
  const { late, twice, noFile, sameDay } = await month(t, s)
  const res = await s.get('reader', `/v1/indicators/dossiers?agency=${AGENCY}&period=2024-02&indicator=onTime`)
  t.equal(res.statusCode, 200, res.body)
  const page = res.json() as Record<string, any>
  t.match(page, { agency: AGENCY, period: '2024-02', indicator: 'onTime', side: 'denominator', total: 4, offset: 0, profile: { name: 'national-766', version: 1 } })
  const by = Object.fromEntries(page.dossiers.map((x: any) => [x.maHoSo, x]))
  t.match(by[late.MaHoSo], { received: d(1), due: d(5, 17), dueSource: 'NgayHenTra', end: d(7, 17), endSource: 'ThoiDiemXuLy', counted: 'denominator', verdict: 'late', reason: 'late by 2 working days' })
  t.match(by[twice.MaHoSo], { verdict: 'late', reason: 'supplement requested twice' })
  t.match(by[noFile.MaHoSo], { verdict: 'onTime', counted: 'numerator', reason: 'ended by its due date' })
  t.match(by[sameDay.MaHoSo], { verdict: 'late', reason: 'late by less than a working day' })
  const num = (await s.get('reader', `/v1/indicators/dossiers?agency=${AGENCY}&period=2024-02&indicator=onTime&side=numerator`)).json()
  t.same(num.dossiers.map((x: any) => x.maHoSo), [noFile.MaHoSo])
  const digit = (await s.get('reader', `/v1/indicators/dossiers?agency=${AGENCY}&period=2024-02&indicator=digitisedResults`)).json()
  const reasons = Object.fromEntries(digit.dossiers.map((x: any) => [x.maHoSo, [x.counted, x.reason]]))
  t.same(reasons[noFile.MaHoSo], ['denominator', 'no result file'])
  t.same(reasons[late.MaHoSo], ['numerator', 'digitised attachments and a result file'])
  // Paged, in MaHoSo order.
  const p1 = (await s.get('reader', `/v1/indicators/dossiers?agency=${AGENCY}&period=2024-02&indicator=onTime&offset=1&limit=2`)).json()
  t.same(p1.dossiers.map((x: any) => x.maHoSo), [twice.MaHoSo, noFile.MaHoSo])
  t.match(p1, { total: 4, offset: 1, limit: 2 })
  // CSV: the same rows.
  const csv = await s.get('reader', `/v1/indicators/dossiers?agency=${AGENCY}&period=2024-02&indicator=onTime&format=csv`)
  t.equal(csv.statusCode, 200)
  t.match(csv.headers['content-type'], /^text\/csv/)
  const lines = csv.body.replace(/^\uFEFF/, '').trimEnd().split('\r\n')
  t.equal(lines[0], 'maHoSo,agency,state,received,due,dueSource,end,endSource,counted,verdict,reason')
  t.equal(lines.length, 5)
  t.ok(lines.includes(`${late.MaHoSo},${AGENCY},9,${d(1)},${d(5, 17)},NgayHenTra,${d(7, 17)},ThoiDiemXuLy,denominator,late,late by 2 working days`))
  // The figures as CSV carry the same numbers as the JSON answer.
  const json = (await s.get('reader', `/v1/indicators?agency=${AGENCY}&period=2024-02`)).json()
  const figures = (await s.get('reader', `/v1/indicators?agency=${AGENCY}&period=2024-02&format=csv`)).body.replace(/^\uFEFF/, '').trimEnd().split('\r\n')
  t.equal(figures[0], 'agency,period,closed,revision,profile,indicator,name,group,numerator,denominator,rate,points,max,target')
  for (const i of json.report.indicators) {
    t.ok(figures.some((l) => l.startsWith(`${AGENCY},2024-02,false,,national-766 v1,${i.key},`) && l.endsWith(`,${i.numerator},${i.denominator},${i.rate ?? ''},${i.points ?? ''},${i.max},${i.target}`)), `${i.key} in the CSV`)
  }
  // Bad parameters and unknown agencies are problems, not empty pages.
  t.equal((await s.get('reader', `/v1/indicators/dossiers?agency=${AGENCY}&period=2024-02&indicator=nope`)).json().code, 'LGSP_ERR_REQUEST_BAD_PARAMETER')
  t.equal((await s.get('reader', `/v1/indicators/dossiers?agency=${AGENCY}&period=2024-02&indicator=onTime&limit=0`)).json().code, 'LGSP_ERR_REQUEST_BAD_PARAMETER')
  t.equal((await s.get('reader', `/v1/indicators/dossiers?agency=${AGENCY}&period=2024-02&indicator=onTime&side=both`)).json().code, 'LGSP_ERR_REQUEST_BAD_PARAMETER')
  t.equal((await s.get('reader', `/v1/indicators?agency=${AGENCY}&period=2024-02&format=xml`)).json().code, 'LGSP_ERR_REQUEST_BAD_PARAMETER')
  t.equal((await s.get('reader', '/v1/indicators/dossiers?agency=000.99.99.H56&period=2024-02&indicator=onTime')).statusCode, 404)
  t.equal((await s.get('onestop', `/v1/indicators/dossiers?agency=${AGENCY}&period=2024-02&indicator=onTime`)).statusCode, 403)
})

t.test('the rule profile comes from the config, is recorded in each revision, and a change makes a new revision', async (t) => {
  const byDay = { name: 'province-by-day', version: 2, granularity: 'date' }
  const s = await startStack(t, { configExtra: { indicators: { profile: byDay } } })
  const { sameDay } = await month(t, s)
  await waitFor('all delivered', async () => (await s.gateway.store.queueStats()).every((q) => q.pending + q.inflight === 0))
  const open = (await s.get('reader', `/v1/indicators?agency=${AGENCY}&period=2024-02`)).json()
  t.match(open.report.profile, { name: 'province-by-day', version: 2, granularity: 'date', carryOvers: true, withdrawn: 'excluded', maxSupplements: 1 })
  t.match(open.report.indicators.find((i: any) => i.key === 'onTime'), { numerator: 2, denominator: 4 }, 'the same-day dossier is on time by day')
  const closed = (await s.post('operator', '/v1/indicators/close', { agency: AGENCY, period: '2024-02' })).json()
  t.match(closed, { closed: true, revision: 1, report: { profile: { name: 'province-by-day', version: 2 } } })

  // The same store under the national profile: the closed period is not recomputed in place.
  const national = new Statistics(s.gateway.store, s.gateway.adapters, { ...s.config, indicators: { ...s.config.indicators, profile: { name: 'national-766', version: 1, carryOvers: true, withdrawn: 'excluded', granularity: 'time', noDueDate: 'excluded', maxSupplements: 1, targets: {} } } }, () => {}, createLogger('silent'))
  const read = await national.indicators(AGENCY, '2024-02')
  t.match(read, { closed: true, revision: 1 })
  t.equal((read.report.indicators.find((i) => i.key === 'onTime'))!.numerator, 2, 'revision 1 as published')
  t.match(read.changes, [{ profile: { before: { name: 'province-by-day' }, after: { name: 'national-766' } } }, { indicator: 'onTime', numerator: { removed: [sameDay.MaHoSo] } }])
  const revised = await national.close(AGENCY, '2024-02')
  t.match(revised, { revision: 2, report: { profile: { name: 'national-766' } } })
  t.equal(revised.report.indicators.find((i) => i.key === 'onTime')!.numerator, 1)
  const all = await s.gateway.store.revisions(AGENCY, '2024-02')
  t.same(all.map((r) => [r.revision, (r.report as any).profile.name]), [[1, 'province-by-day'], [2, 'national-766']], 'revision 1 kept as it was')
  t.equal((await national.close(AGENCY, '2024-02')).revision, 2, 'no new revision without a change')
})
