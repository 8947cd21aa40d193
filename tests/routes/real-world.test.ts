/**
 * Messages exactly as real one-stop software builds them (tests/fixtures/real-world.ts) are
 * accepted, normalised and reported, and DVCQG ends up holding what the one-stop meant.
 */
import t from 'tap'
import type { Test } from 'tap'
import { realWorldCases, type Step } from '../fixtures/real-world.js'
import { startStack, waitFor, type Stack } from '../helpers.js'

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
