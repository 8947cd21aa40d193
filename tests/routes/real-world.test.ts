/**
 * Messages exactly as real one-stop software builds them (tests/fixtures/real-world.ts) are
 * accepted, normalised and reported, and DVCQG ends up holding what the one-stop meant.
 */
import t from 'tap'
import type { Test } from 'tap'
import { realWorldCases, type Step } from '../fixtures/real-world.js'
import { at, startStack, waitFor, type Stack } from '../helpers.js'

interface Reply { warnings?: Array<{ code: string, path: string, message: string }>, warningCounts?: Record<string, number>, outcomes?: Array<{ index: number, outcome: string, code?: string }> }

async function send (s: Stack, step: Step): Promise<{ status: number, body: Reply }> {
  const res = 'records' in step
    ? await s.post('onestop', '/v1/dossiers', step.records)
    : await s.post('onestop', `/v1/dossiers/${String((Array.isArray(step.progress) ? step.progress[0] : step.progress)!.MaHoSo)}/progress`, step.progress)
  return { status: res.statusCode, body: res.json() as Reply }
}

async function settled (s: Stack): Promise<void> {
  await waitFor('every unit delivered', async () => {
    const queues = (await s.get('operator', '/v1/admin/queues')).json() as Array<{ pending: number, inflight: number, dead: number }>
    return queues.every((q) => q.pending + q.inflight === 0)
  })
}

t.test('real one-stop messages are accepted, reported and reach DVCQG as the one-stop meant them', async (t: Test) => {
  const s = await startStack(t)
  for (const c of realWorldCases) {
    await t.test(c.name, async (t) => {
      const codes = new Set<string>()
      let last: Reply = {}
      for (const step of c.steps) {
        const r = await send(s, step)
        t.equal(r.status, 202, `accepted: ${JSON.stringify(r.body).slice(0, 300)}`)
        for (const w of r.body.warnings ?? []) {
          codes.add(w.code)
          t.notMatch(w.message + w.path, /079203001234|Lê Văn Đức|Phạm Thị Hoa/, 'a warning never carries the value sent')
        }
        t.same(Object.values(r.body.warningCounts ?? {}).reduce((a, n) => a + n, 0) >= (r.body.warnings ?? []).length, true, 'warningCounts counts every warning')
        last = r.body
      }
      for (const code of c.warnings) t.ok(codes.has(code), `reported ${code}`)
      if (c.outcomes !== undefined) t.same((last.outcomes ?? []).map((o) => o.outcome), c.outcomes, 'per-entry outcomes')
      for (const o of last.outcomes ?? []) if (o.outcome === 'refused') t.equal(o.code, 'LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION')

      const view = (await s.get('onestop', `/v1/dossiers/${c.maHoSo}`)).json() as { TrangThaiHoSo: number }
      t.equal(view.TrangThaiHoSo, c.state, 'the ledger holds the status the one-stop meant')
      await settled(s)
      const held = s.dvcqg.dossiers.get(c.maHoSo)
      t.ok(held, 'DVCQG holds the dossier')
      if (held === undefined) return
      t.equal(String(held.record.TrangThaiHoSo), String(c.state), 'DVCQG holds the same status')
      for (const [k, v] of Object.entries(c.held ?? {})) t.same(held.record[k], v, `DVCQG holds ${k} as expected`)
      for (const k of c.absent ?? []) t.notOk(k in held.record, `${k} (empty) is absent at DVCQG`)
      if (c.progressHeld !== undefined) t.equal(held.progress.length, c.progressHeld, 'DVCQG holds every progress entry that was not refused')
    })
  }
  t.equal(s.dvcqg.repeats, 0, 'nothing reached DVCQG twice')

  // A province can see how clean its one-stop's data is.
  const tally = (await s.get('operator', '/v1/admin/normalisations')).json() as { members: Record<string, Record<string, number>> }
  t.ok((tally.members['onestop-test']?.LGSP_WARN_EMPTY_AS_ABSENT ?? 0) > 0, 'normalisations are counted per member')
  t.ok(s.logs.some((l) => l.includes('"msg":"normalised"') && l.includes('LGSP_WARN_EMPTY_AS_ABSENT')), 'and logged by code')
})

t.test('a repeat of a real record gets the same warnings and outcomes back', async (t) => {
  const s = await startStack(t)
  const step = realWorldCases[0]!.steps[0]!
  const { receipt: _r1, ...first } = (await send(s, step)).body as Reply & { receipt?: unknown }
  const res = await send(s, step)
  const { receipt: _r2, ...again } = res.body as Reply & { receipt?: unknown }
  t.equal(res.status, 202)
  t.ok((first.warnings ?? []).length > 0)
  t.same(again, first, 'the stored reply, warnings and outcomes included')
})

t.test('an impossible record alone in its message is still refused as a whole, and changes nothing', async (t) => {
  const s = await startStack(t)
  const c = realWorldCases.find((x) => x.name.startsWith('a combined'))!
  for (const step of c.steps) t.equal((await send(s, step)).status, 202)
  await settled(s)
  const before = (await s.get('onestop', `/v1/dossiers/${c.maHoSo}`)).body
  const res = await s.post('onestop', '/v1/dossiers', { ...(c.steps[0] as { records: Record<string, unknown> }).records, TrangThaiHoSo: '3', NgayTuChoi: '20241231080000' })
  t.equal(res.statusCode, 409)
  t.equal(res.json().code, 'LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION')
  t.equal((await s.get('onestop', `/v1/dossiers/${c.maHoSo}`)).body, before, 'unchanged')
})

/**
 * A generated month as a SyncLocalDataToDVCQG-style client sends it: the records first (in
 * batches), then each dossier's whole history starting with 2 "Tiếp nhận hồ sơ", with its
 * quirks: a dossier waiting for a supplement reported as "9" with a "9" entry at the request,
 * a dossier without a due date given a "9" entry at reception while processing goes on, end
 * dates left empty. Nothing may be refused, and every dossier must end, in the ledger and at
 * DVCQG, at the status the one-stop reported.
 */
t.test('a generated month sent record first, then history: nothing refused, every dossier where the one-stop meant', async (t) => {
  const s = await startStack(t)
  const N = 120
  const day = 24 * 60
  let seed = 20241105
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  const plans = Array.from({ length: N }, (_, i) => {
    const maHoSo = `000.00.09.H56-241105-${String(i).padStart(4, '0')}`
    const t0 = Math.floor(rnd() * 25) * day + 60
    const kind = Math.floor(rnd() * 6)
    const history: Array<[number, string, string]> = [[t0, '2', 'Tiếp nhận hồ sơ'], [t0 + 60, '4', 'Chuyển phòng chuyên môn']]
    let reported = '4'
    let end: number | undefined
    let noDueDate = false
    if (kind === 0) { history.push([t0 + day, '5', 'Yêu cầu bổ sung'], [t0 + 2 * day, '4', 'Đã bổ sung']) }
    if (kind === 1) { end = t0 + 3 * day; history.push([end, '9', 'Kết thúc xử lý hồ sơ'], [end + day, '10', 'Trả kết quả']); reported = '10' }
    if (kind === 2) { end = t0 + 2 * day; history.push([end, '9', 'Kết thúc xử lý hồ sơ']); reported = '9' }
    // Waiting for a supplement: the client reports 9, with a 9 entry at the request.
    if (kind === 3) { history.push([t0 + day, '5', 'Yêu cầu bổ sung'], [t0 + day, '9', 'Cán bộ trả hồ sơ bổ sung']); reported = '9' }
    if (kind === 4) { end = t0 + day; history.push([end, '3', 'Từ chối giải quyết']); reported = '3' }
    // No due date: a 9 entry at reception, appended after the rest; processing goes on.
    if (kind === 5) { noDueDate = true; history.push([t0, '9', 'Hồ sơ không có ngày hẹn trả']) }
    const record: Record<string, unknown> = {
      MaHoSo: maHoSo, MaTTHC: '1.000775.H56', TenTTHC: 'Cấp giấy phép xây dựng nhà ở riêng lẻ', KenhThucHien: rnd() < 0.5 ? '2' : null,
      ChuHoSo: 'Công dân', LoaiDoiTuong: '1', MaDoiTuong: null, Email: '', NgayTiepNhan: at(t0), NgayNopHoSo: at(t0),
      NgayHenTra: noDueDate ? '' : at(t0 + 10 * day), TrangThaiHoSo: reported, NgayTuChoi: reported === '3' && end !== undefined ? at(end) : '',
      NgayKetThucXuLy: rnd() < 0.5 || end === undefined ? '' : at(end), NgayTra: '', NoiNopHoSo: '2', DSKetNoiCSDL: [{ MaCSDL: '7' }],
      DanhSachLePhi: [{ TenPhiLePhi: 'Lệ phí', Gia: '75000' }]
    }
    const entries = history.map(([m, status, text]) => ({ MaHoSo: maHoSo, NguoiXuLy: 'Cán bộ một cửa', ChucDanh: '', ThoiDiemXuLy: at(m), PhongBanXuLy: '', NoiDungXuLy: text, TrangThai: status, NgayBatDau: '', NgayKetThucTheoQuyDinh: '' }))
    return { maHoSo, record, entries, reported: Number(reported) }
  })
  let refused = 0
  for (let i = 0; i < N; i += 40) {
    const res = await s.post('onestop', '/v1/dossiers', plans.slice(i, i + 40).map((p) => p.record))
    t.equal(res.statusCode, 202)
  }
  for (const p of plans) {
    const res = await s.post('onestop', `/v1/dossiers/${p.maHoSo}/progress`, p.entries)
    t.equal(res.statusCode, 202, `${p.maHoSo}: ${res.body.slice(0, 200)}`)
    refused += ((res.json() as Reply).outcomes ?? []).filter((o) => o.outcome === 'refused').length
  }
  t.equal(refused, 0, 'no entry refused')
  await settled(s)
  let wrongLedger = 0
  let wrongDvcqg = 0
  for (const p of plans) {
    const view = (await s.get('onestop', `/v1/dossiers/${p.maHoSo}`)).json() as { TrangThaiHoSo: number }
    if (view.TrangThaiHoSo !== p.reported) wrongLedger++
    if (Number(s.dvcqg.dossiers.get(p.maHoSo)?.record.TrangThaiHoSo) !== p.reported) wrongDvcqg++
  }
  t.equal(wrongLedger, 0, 'every dossier in the ledger at the status the one-stop reported')
  t.equal(wrongDvcqg, 0, 'and at DVCQG')
  t.equal(s.dvcqg.repeats, 0, 'nothing reached DVCQG twice')
  const clean = (await s.post('operator', '/v1/reconcile', { agency: '000.00.00.H56', period: '2024-02', repair: false })).json() as { differences: unknown[] }
  t.same(clean.differences, [], 'reconciliation finds DVCQG in step with the ledger')
})
