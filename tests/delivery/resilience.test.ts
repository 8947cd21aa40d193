import t from 'tap'
import { hoso, progress, startStack, waitFor, type Stack } from '../helpers.js'
import { poisonProgress } from './poison.js'

async function postMany (s: Stack, from: number, count: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = from; i < from + count; i++) {
    const record = hoso(i)
    const res = await s.post('onestop', '/v1/dossiers', record)
    if (res.statusCode !== 202) throw new Error(`dossier ${i}: ${res.statusCode} ${res.body}`)
    const p = await s.post('onestop', `/v1/dossiers/${record.MaHoSo}/progress`, [progress(record.MaHoSo, 30, 4), progress(record.MaHoSo, 90, 9, 'Xong')])
    if (p.statusCode !== 202) throw new Error(`progress ${i}: ${p.statusCode} ${p.body}`)
    ids.push(record.MaHoSo)
  }
  return ids
}

const lifts = new Map<string, () => void>()

/** A dossier whose progress DVCQG refuses as "does not exist" even after a re-sync (permanent). */
async function poisoned (s: Stack, n: number): Promise<string> {
  const record = hoso(n)
  await s.post('onestop', '/v1/dossiers', record)
  await waitFor('dossier synced', () => s.dvcqg.dossiers.has(record.MaHoSo))
  lifts.set(record.MaHoSo, poisonProgress(s.dvcqg, record.MaHoSo))
  return record.MaHoSo
}

/** DVCQG takes the dossier's progress again (the operator fixed the cause). */
const restore = (_s: Stack, id: string): void => { lifts.get(id)?.() }

const allDelivered = (s: Stack, ids: string[]) => (): boolean =>
  ids.every((id) => s.dvcqg.dossiers.get(id)?.progress.length === 2)

t.test('queues everything while DVCQG is down and delivers it once it is back', async (t) => {
  const s = await startStack(t)
  const port = s.dvcqg.server.port
  await s.dvcqg.stop()
  const ids = await postMany(s, 1, 40)
  type Down = { destination: string, pending: number, inflight: number, worker: { breaker: string } }
  const whileDown = async (): Promise<Down> => ((await s.get('operator', '/v1/admin/queues')).json() as Down[]).find((q) => q.destination === 'dvcqg')!
  await waitFor('the circuit opened', async () => (await whileDown()).worker.breaker !== 'closed')
  t.equal(s.dvcqg.dossiers.size, 0, 'nothing could be delivered')
  const dvcqg = await whileDown()
  // A half-open probe may hold one unit in flight at this moment.
  t.equal(dvcqg.pending + dvcqg.inflight, 40 * 2, 'one dossier unit and one progress unit per dossier wait')
  t.not(dvcqg.worker.breaker, 'closed', 'the circuit opened while DVCQG was down')

  await s.dvcqg.start(port)
  await waitFor('every dossier delivered', allDelivered(s, ids))
  t.equal(s.dvcqg.repeats, 0, 'nothing applied twice')
  for (const id of ids) t.same(s.dvcqg.arrivals.get(id), [progress(id, 30, 4).ThoiDiemXuLy, progress(id, 90, 9).ThoiDiemXuLy])
  // DVCQG applies a unit before the gateway records the reply: wait for the gateway's own count.
  type Q = { destination: string, pending: number, inflight: number, dead: number, delivered: number }
  const dvcqgQueue = async (): Promise<Q | undefined> => ((await s.get('operator', '/v1/admin/queues')).json() as Q[]).find((q) => q.destination === 'dvcqg')
  await waitFor('every unit recorded as delivered', async () => (await dvcqgQueue())?.delivered === 80)
  t.match(await dvcqgQueue(), { pending: 0, inflight: 0, dead: 0, delivered: 80 })
})

t.test('with 30% of DVCQG calls failing (errors, hangs, lost replies), everything is delivered, once', async (t) => {
  let seed = 42
  const random = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  const s = await startStack(t, { dvcqg: { random } })
  // `slow` replies after the client's 600 ms timeout: applied, but the gateway cannot know.
  s.dvcqg.server.setFaults({ mode: 'random', rate: 0.3, delayMs: 800 })
  const ids = await postMany(s, 100, 120)
  await waitFor('every dossier delivered despite faults', allDelivered(s, ids), 60_000)
  const c = s.dvcqg.server.counters
  t.ok(c.error > 0 && c.hang > 0 && c.slow > 0 && c.drop > 0, `every fault kind happened (${JSON.stringify(c)})`)
  t.equal(s.dvcqg.repeats, 0, 'no record or entry applied twice')
  t.equal(s.dvcqg.dossiers.size, ids.length)
  for (const id of ids) {
    const held = s.dvcqg.dossiers.get(id)!
    t.equal(held.creates + held.updates, 1, `${id} synced once`)
  }
})

t.test('the rate-based breaker does not starve a DVCQG that fails 30% of calls at random', async (t) => {
  let seed = 7
  const random = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  // The default breaker window (100 calls, opens at 50% once 20 are in), fast retries.
  const s = await startStack(t, { dvcqg: { random }, configExtra: { delivery: { pollIntervalMs: 50, retry: { baseMs: 20, maxMs: 250 }, breaker: { openMs: 100, maxOpenMs: 400 } } } })
  s.dvcqg.server.setFaults({ mode: 'random', rate: 0.3, delayMs: 800, paths: [s.dvcqg.integrationPath] })
  const ids = await postMany(s, 500, 80)
  await waitFor('every dossier delivered despite faults', allDelivered(s, ids), 60_000)
  type Q = { destination: string, dead: number, worker: { breakerOpened: number, failedAttempts: number } }
  const q = ((await s.get('operator', '/v1/admin/queues')).json() as Q[]).find((x) => x.destination === 'dvcqg')!
  t.ok(q.worker.failedAttempts > 20, `faults did happen (${q.worker.failedAttempts} failed attempts)`)
  t.ok(q.worker.breakerOpened <= 1, `the circuit opened ${q.worker.breakerOpened} times`)
  t.equal(q.dead, 0)
  t.equal(s.dvcqg.repeats, 0, 'nothing applied twice')
})

t.test('a 500 after DVCQG applied a dossier: the retry looks it up and does not send it again', async (t) => {
  const s = await startStack(t)
  s.dvcqg.failAfterApplying(1, 500)
  const record = hoso(600)
  await s.post('onestop', '/v1/dossiers', record)
  await waitFor('dossier recorded as delivered', async () => {
    const view = (await s.get('onestop', `/v1/dossiers/${record.MaHoSo}`)).json() as { deliveries: { dvcqg?: { state: string } } }
    return view.deliveries.dvcqg?.state === 'delivered'
  })
  t.equal(s.dvcqg.applyThenError.remaining, 0, 'the fault hit')
  t.equal(s.dvcqg.calls.DongBoHoSoMC, 1, 'sent once')
  t.ok((s.dvcqg.calls.TraCuuHoSo ?? 0) >= 1, 'looked up before sending again')
  t.equal(s.dvcqg.dossiers.get(record.MaHoSo)?.creates, 1)
  t.equal(s.dvcqg.repeats, 0)
})

t.test('an expired DVCQG session is renewed and the call goes through', async (t) => {
  const s = await startStack(t)
  await s.post('onestop', '/v1/dossiers', hoso(200))
  await waitFor('first dossier', () => s.dvcqg.dossiers.size === 1)
  s.dvcqg.expireSessions()
  await s.post('onestop', '/v1/dossiers', hoso(201))
  await waitFor('second dossier', () => s.dvcqg.dossiers.size === 2)
  t.equal(s.dvcqg.logins, 2)
  t.equal(s.dvcqg.expiredCalls, 1)
})

t.test('a poisoned dossier goes to the dead-letter list without holding back the others, and replays', async (t) => {
  const s = await startStack(t)
  const id = await poisoned(s, 300)
  await s.post('onestop', `/v1/dossiers/${id}/progress`, progress(id, 10, 4))
  await s.post('onestop', `/v1/dossiers/${id}/progress`, progress(id, 20, 9, 'Xong'))
  const others = await postMany(s, 301, 10)
  await waitFor('the others delivered', allDelivered(s, others))

  const dlq = (await s.get('operator', '/v1/admin/dlq')).json() as { entries: Array<{ id: number, maHoSo: string, code: string, blocked: number }> }
  t.equal(dlq.entries.length, 1)
  t.match(dlq.entries[0], { maHoSo: id, code: 'LGSP_ERR_DVCQG_REJECTED', blocked: 1 })
  const view = (await s.get('onestop', `/v1/dossiers/${id}`)).json() as Record<string, any>
  t.same(view.deliveries.dvcqg.units.map((u: any) => u.state), ['delivered', 'dead', 'blocked'], 'later units wait behind the dead one')
  t.equal(view.deliveries.dvcqg.state, 'dead')

  const forbidden = await s.post('onestop', `/v1/admin/dlq/${dlq.entries[0]!.id}/replay`, {})
  t.equal(forbidden.statusCode, 403)
  t.equal(forbidden.json().code, 'LGSP_ERR_AUTH_ADMIN_REQUIRED')

  // The operator fixes the cause and replays.
  restore(s, id)
  const replay = await s.post('operator', `/v1/admin/dlq/${dlq.entries[0]!.id}/replay`, {})
  t.equal(replay.statusCode, 200)
  await waitFor('poisoned dossier delivered after replay', () => s.dvcqg.dossiers.get(id)?.progress.length === 2)
  t.same(s.dvcqg.arrivals.get(id), [progress(id, 10, 4).ThoiDiemXuLy, progress(id, 20, 9).ThoiDiemXuLy])
  const missing = await s.post('operator', '/v1/admin/dlq/999999/replay', {})
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'LGSP_ERR_DLQ_NOT_FOUND')
})

t.test('a discarded dead letter lets the dossier\'s later units flow', async (t) => {
  const s = await startStack(t)
  const id = await poisoned(s, 400)
  await s.post('onestop', `/v1/dossiers/${id}/progress`, progress(id, 10, 4))
  await waitFor('dead-lettered', async () => ((await s.get('operator', '/v1/admin/dlq')).json() as { entries: unknown[] }).entries.length === 1)
  const [entry] = ((await s.get('operator', '/v1/admin/dlq')).json() as { entries: Array<{ id: number }> }).entries
  restore(s, id)
  await s.post('onestop', `/v1/dossiers/${id}/progress`, progress(id, 20, 9, 'Xong'))
  // A dossier accepted after it is delivered: the worker has claimed past the held unit, which it could not take.
  const later = hoso(401)
  await s.post('onestop', '/v1/dossiers', later)
  await waitFor('a later dossier delivered', () => s.dvcqg.dossiers.has(later.MaHoSo))
  t.equal(s.dvcqg.dossiers.get(id)!.progress.length, 0, 'held back behind the dead letter')
  t.same(((await s.get('onestop', `/v1/dossiers/${id}`)).json() as Record<string, any>).deliveries.dvcqg.units.map((u: any) => u.state), ['delivered', 'dead', 'blocked'], 'never claimed')
  t.equal((await s.post('operator', `/v1/admin/dlq/${entry!.id}/discard`, {})).json().code, 'LGSP_ERR_DLQ_REASON_REQUIRED', 'a discard says why')
  t.equal((await s.post('operator', `/v1/admin/dlq/${entry!.id}/discard`, { reason: 'entry sent twice by the one-stop' })).statusCode, 200)
  await waitFor('later unit delivered', () => s.dvcqg.dossiers.get(id)?.progress.length === 1)
  const view = (await s.get('onestop', `/v1/dossiers/${id}`)).json() as Record<string, any>
  t.same(view.deliveries.dvcqg.units.map((u: any) => u.state), ['delivered', 'discarded', 'delivered'])
})
