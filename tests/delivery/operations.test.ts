import t from 'tap'
import { DvcqgSimulator } from '../../adapters/dvcqg/simulator.js'
import { discard, replay, resume } from '../../gateway/cli-dlq.js'
import { hoso, progress, startStack, waitFor, type Stack } from '../helpers.js'
import { poisonProgress } from './poison.js'

type Line = Record<string, any> & { level: number, msg: string }
const lines = (s: Stack): Line[] => s.logs.flatMap((l) => l.split('\n')).filter((l) => l.length > 0).map((l) => JSON.parse(l) as Line)
const logged = (s: Stack, msg: string | RegExp, level?: number): Line[] =>
  lines(s).filter((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg)) && (level === undefined || l.level === level))
const WARN = 40
const ERROR = 50

type Ready = { status: string, paused: Array<{ destination: string, code: string, fix: string, reason: string }> }
const readyz = async (s: Stack): Promise<Ready> => (await s.gateway.app.inject({ method: 'GET', url: '/readyz' })).json() as Ready
type Queue = { destination: string, pending: number, dead: number, worker: { paused: null | { code: string, fix: string } } }
const queue = async (s: Stack, name: string): Promise<Queue> => ((await s.get('operator', '/v1/admin/queues')).json() as Queue[]).find((q) => q.destination === name)!
const deadCount = async (s: Stack): Promise<number> => ((await s.get('operator', '/v1/admin/dlq')).json() as { entries: unknown[] }).entries.length

t.test('a DVCQG that refuses the login pauses the destination: the queue holds, /readyz and the queues say why, and it resumes once a login works', async (t) => {
  // DVCQG's password was changed; the gateway still has the old one.
  const s = await startStack(t, { dvcqg: { password: 'rotated-at-dvcqg' }, configExtra: { delivery: { pollIntervalMs: 50, pauseProbeMs: 100, retry: { baseMs: 20, maxMs: 250 } } } })
  const ids = [hoso(1), hoso(2), hoso(3)]
  for (const r of ids) t.equal((await s.post('onestop', '/v1/dossiers', r)).statusCode, 202, 'intake goes on')
  await waitFor('paused', async () => (await readyz(s)).paused.length === 1)
  const ready = await readyz(s)
  t.equal(ready.status, 'degraded', '/readyz stays 200 but says degraded')
  t.match(ready.paused[0], { destination: 'dvcqg', code: 'LGSP_ERR_DVCQG_LOGIN', fix: /LGSP_DEST_DVCQG_PASSWORD/ })
  const q = await queue(s, 'dvcqg')
  t.match(q.worker.paused, { code: 'LGSP_ERR_DVCQG_LOGIN' }, 'GET /v1/admin/queues shows the pause')
  t.equal(q.dead, 0, 'nothing dead-lettered')
  t.match(logged(s, /destination paused/, ERROR), [{ destination: 'dvcqg', fix: /destinations\.dvcqg\.password/ }], 'one error line says what to fix')
  const probes = s.dvcqg.calls.DongBoHoSoMC ?? 0
  await waitFor('probed again', async () => lines(s).some((l) => l.msg === 'still paused: the credentials are refused'))
  t.equal(s.dvcqg.calls.DongBoHoSoMC ?? 0, probes, 'probing logs in; it sends no message')

  // The operator puts the right password in place at DVCQG's side: the next probe logs in.
  const port = s.dvcqg.server.port
  await s.dvcqg.stop()
  const fixed = await new DvcqgSimulator().start(port)
  t.teardown(() => fixed.stop())
  await waitFor('every dossier delivered', () => ids.every((r) => fixed.dossiers.has(r.MaHoSo)))
  t.equal((await readyz(s)).status, 'ready')
  t.match(logged(s, 'destination resumed', WARN), [{ destination: 'dvcqg', by: 'probe' }])
})

t.test('a one-stop that answers 401 pauses its destination instead of dead-lettering; an operator resumes it over HTTP and from the CLI', async (t) => {
  const s = await startStack(t, { configExtra: { delivery: { pollIntervalMs: 50, pauseProbeMs: 3_600_000, retry: { baseMs: 20, maxMs: 250 } } } })
  const onestop = s.onestop as { token: string }
  onestop.token = 'rotated-webhook-key'
  const send = async (n: number): Promise<string> => {
    const r = hoso(n)
    t.equal((await s.post('vertical', '/v1/dossiers', r, {}, )).statusCode, 202)
    return r.MaHoSo
  }
  const first = await send(10)
  await send(11)
  await waitFor('paused', async () => (await queue(s, 'onestop')).worker.paused !== null)
  t.match((await readyz(s)).paused, [{ destination: 'onestop', code: 'LGSP_ERR_UPSTREAM_CREDENTIALS', fix: /LGSP_DEST_ONESTOP_TOKEN/ }])
  t.equal(await deadCount(s), 0, 'no dead letter for a refused key')

  t.equal((await s.post('operator', '/v1/admin/destinations/nowhere/resume', {})).json().code, 'LGSP_ERR_DESTINATION_UNKNOWN')
  t.equal((await s.post('onestop', '/v1/admin/destinations/onestop/resume', {})).statusCode, 403, 'operators only')
  onestop.token = 'onestop-dev-webhook-key'
  const res = await s.post('operator', '/v1/admin/destinations/onestop/resume', {})
  t.match(res.json(), { destination: 'onestop', resumed: true })
  await waitFor('delivered after resume', () => (s.onestop.events.get(first) ?? []).length > 0)
  t.match(logged(s, 'destination resumed', WARN), [{ destination: 'onestop', by: 'operator' }])

  // Refused again; this time the CLI's resume (through the store) lifts it.
  onestop.token = 'rotated-again'
  const third = await send(12)
  await waitFor('paused again', async () => (await queue(s, 'onestop')).worker.paused !== null)
  onestop.token = 'onestop-dev-webhook-key'
  const asked = await resume({ destination: 'onestop', operator: 'operator' }, s.gateway.store)
  await waitFor('delivered after the CLI resume', () => (s.onestop.events.get(third) ?? []).length > 0)
  const [entry] = await s.gateway.store.readLog({ messageId: asked.logMessageId })
  t.match(entry, { party: 'operator', kind: 'destination-resume' }, 'the CLI resume is in the message log')
})

t.test('circuit transitions are logged at warn with the failure rate', async (t) => {
  const s = await startStack(t, { configExtra: { delivery: { pollIntervalMs: 50, retry: { baseMs: 20, maxMs: 100 }, breaker: { windowSize: 4, minimumCalls: 2, openMs: 50, maxOpenMs: 100, halfOpenCalls: 1 } } } })
  const port = s.dvcqg.server.port
  await s.dvcqg.stop()
  for (const n of [20, 21, 22]) await s.post('onestop', '/v1/dossiers', hoso(n))
  await waitFor('circuit opened', () => logged(s, /circuit opened/, WARN).length > 0)
  t.match(logged(s, /circuit opened/, WARN)[0], { destination: 'dvcqg', from: 'closed', to: 'open', failureRate: 1 })
  await waitFor('half-open', () => logged(s, /circuit half-open/, WARN).length > 0)
  await s.dvcqg.start(port)
  await waitFor('circuit closed', () => logged(s, /circuit closed/, WARN).length > 0)
  t.match(logged(s, /circuit closed/, WARN)[0], { destination: 'dvcqg', from: 'half-open', to: 'closed', failureRate: 0 })
})

t.test('a dead letter is logged at error with its message id and trace', async (t) => {
  const s = await startStack(t)
  const r = hoso(30)
  await s.post('onestop', '/v1/dossiers', r)
  await waitFor('synced', () => s.dvcqg.dossiers.has(r.MaHoSo))
  poisonProgress(s.dvcqg, r.MaHoSo)
  const accepted = (await s.post('onestop', `/v1/dossiers/${r.MaHoSo}/progress`, progress(r.MaHoSo, 10, 4))).json() as { messageId: string }
  await waitFor('dead-lettered', () => logged(s, 'dead-lettered', ERROR).length === 1)
  const line = logged(s, 'dead-lettered', ERROR)[0]!
  t.match(line, { destination: 'dvcqg', messageId: accepted.messageId, maHoSo: r.MaHoSo, code: 'LGSP_ERR_DVCQG_REJECTED' })
  t.match(line.traceparent, new RegExp(`^00-${accepted.messageId.replace(/-/g, '')}-[0-9a-f]{16}-01$`), 'the trace id is the message id')
})

t.test('bulk replay and discard take a filter and a reason, and write each action to the message log with the operator', async (t) => {
  const s = await startStack(t)
  const ids: string[] = []
  const lifts: Array<() => void> = []
  for (const n of [40, 41, 42]) {
    const r = hoso(n)
    await s.post('onestop', '/v1/dossiers', r)
    await waitFor('synced', () => s.dvcqg.dossiers.has(r.MaHoSo))
    lifts.push(poisonProgress(s.dvcqg, r.MaHoSo))
    await s.post('onestop', `/v1/dossiers/${r.MaHoSo}/progress`, progress(r.MaHoSo, 10, 4))
    ids.push(r.MaHoSo)
  }
  await waitFor('three dead letters', async () => await deadCount(s) === 3)

  t.equal((await s.post('operator', '/v1/admin/dlq/replay', { reason: 'all of it' })).json().code, 'LGSP_ERR_DLQ_FILTER_REQUIRED', 'no filter, no bulk action')
  t.equal((await s.post('operator', '/v1/admin/dlq/replay', { destination: 'dvcqg' })).json().code, 'LGSP_ERR_DLQ_REASON_REQUIRED')
  t.equal((await s.post('onestop', '/v1/admin/dlq/replay', { destination: 'dvcqg', reason: 'x' })).statusCode, 403)

  const dropped = (await s.post('operator', '/v1/admin/dlq/discard', { maHoSo: ids[0], reason: 'the one-stop withdrew this entry' })).json() as { discarded: number, logMessageId: string }
  t.equal(dropped.discarded, 1)
  const [entry] = await s.gateway.store.readLog({ messageId: dropped.logMessageId })
  t.match(entry, { party: 'operator', kind: 'dlq-discard', direction: 'in' })
  t.match(JSON.parse(entry!.body!), { action: 'discard', by: 'operator', reason: 'the one-stop withdrew this entry', filter: { maHoSo: ids[0] } })
  const view = (await s.get('operator', `/v1/dossiers/${ids[0]}`)).json() as { deliveries: { dvcqg: { units: Array<{ state: string, lastError: string | null }> } } }
  t.match(view.deliveries.dvcqg.units.find((u) => u.state === 'discarded'), { state: 'discarded' })

  lifts[1]!()
  lifts[2]!()
  const replayed = (await s.post('operator', '/v1/admin/dlq/replay', { code: 'LGSP_ERR_DVCQG_REJECTED', destination: 'dvcqg', reason: 'DVCQG fixed its dossier index' })).json() as { replayed: number, logMessageId: string }
  t.equal(replayed.replayed, 2)
  await waitFor('replayed entries delivered', () => ids.slice(1).every((id) => s.dvcqg.dossiers.get(id)?.progress.length === 1))
  t.match(await s.gateway.store.readLog({ messageId: replayed.logMessageId }), [{ party: 'operator', kind: 'dlq-replay' }])
  t.match(logged(s, 'dead letters replayed in bulk', WARN), [{ by: 'operator', replayed: 2, reason: 'DVCQG fixed its dossier index' }])
})

t.test('the CLI functions replay and discard by filter or id, with the reason in the message log', async (t) => {
  const s = await startStack(t)
  const r = hoso(50)
  await s.post('onestop', '/v1/dossiers', r)
  await waitFor('synced', () => s.dvcqg.dossiers.has(r.MaHoSo))
  const lift = poisonProgress(s.dvcqg, r.MaHoSo)
  await s.post('onestop', `/v1/dossiers/${r.MaHoSo}/progress`, progress(r.MaHoSo, 10, 4))
  await waitFor('dead-lettered', async () => await deadCount(s) === 1)
  const store = s.gateway.store
  await t.rejects(discard({ destination: 'dvcqg' }, store), { code: 'LGSP_ERR_DLQ_REASON_REQUIRED' })
  await t.rejects(replay({ reason: 'everything' }, store), { code: 'LGSP_ERR_DLQ_FILTER_REQUIRED' })
  t.match(await replay({ id: 999999, reason: 'x' }, store), { found: false, ids: [] })
  lift()
  const done = await replay({ maHoSo: r.MaHoSo, reason: 'index repaired', operator: 'operator' }, store)
  t.match(done, { found: true, action: 'replay', ids: [Number] })
  s.gateway.delivery?.notify()
  await waitFor('delivered', () => s.dvcqg.dossiers.get(r.MaHoSo)?.progress.length === 1)
  const [entry] = await store.readLog({ messageId: done.logMessageId! })
  t.match(JSON.parse(entry!.body!), { action: 'replay', by: 'operator', reason: 'index repaired' })
})

t.test('a progress entry for a dossier DVCQG does not hold re-syncs the dossier first, then the entry', async (t) => {
  const s = await startStack(t)
  const r = hoso(60)
  await s.post('onestop', '/v1/dossiers', r)
  await waitFor('synced', () => s.dvcqg.dossiers.has(r.MaHoSo))
  s.dvcqg.dossiers.delete(r.MaHoSo)
  await s.post('onestop', `/v1/dossiers/${r.MaHoSo}/progress`, progress(r.MaHoSo, 10, 4))
  await waitFor('entry delivered', () => s.dvcqg.dossiers.get(r.MaHoSo)?.progress.length === 1)
  const held = s.dvcqg.dossiers.get(r.MaHoSo)!
  t.equal(held.creates, 1, 're-created from the ledger record (DongBoHoSoMC isUpdating False)')
  t.equal(held.record.MaTTHC, r.MaTTHC, 'with the ledger\'s record')
  t.equal(await deadCount(s), 0, 'nothing dead-lettered')
  t.match(logged(s, /re-synced it from the ledger/, WARN), [{ destination: 'dvcqg', maHoSo: r.MaHoSo, op: 'progress' }])
})
