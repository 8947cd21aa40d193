/**
 * Backpressure (delivery.backlog): past a destination's backlog bound, intake for it answers
 * 503 LGSP_ERR_SERVER_BACKLOG with Retry-After, the metrics show it, and what was already
 * accepted is untouched: it is delivered, and a repeat of it gets its first answer.
 */
import t from 'tap'
import { Backpressure } from '../../gateway/delivery/backpressure.js'
import type { QueueStats } from '../../gateway/store/types.js'
import { hoso, startStack, waitFor } from '../helpers.js'

/** One sample of the exposition text (labels matched exactly as given). */
function sample (text: string, name: string, destination: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`destination="${destination}"`))
  return line === undefined ? undefined : Number(line.split(' ').at(-1))
}

t.test('past the bound intake answers 503 with Retry-After; what was accepted is kept, delivered, and a repeat gets its first answer', async (t) => {
  const s = await startStack(t, {
    configExtra: {
      delivery: { pollIntervalMs: 50, retry: { baseMs: 20, maxMs: 250 }, breaker: { minimumCalls: 5, openMs: 100, maxOpenMs: 400 }, backlog: { limit: 0, limits: { dvcqg: 3 }, refreshMs: 20 } }
    }
  })
  const metrics = async (): Promise<string> => (await s.gateway.app.inject({ method: 'GET', url: '/metrics' })).body
  // DVCQG refuses every delivery for now: the units stay queued.
  s.dvcqg.server.setFaults({ mode: 'error', paths: ['/api/integration'] })
  const first = []
  for (let i = 1; i <= 3; i++) {
    const res = await s.post('onestop', '/v1/dossiers', hoso(700 + i))
    t.equal(res.statusCode, 202, `dossier ${i} accepted under the bound`)
    first.push(res.json() as { messageId: string })
  }
  await waitFor('the metrics show the dvcqg backlog at its bound', async () => sample(await metrics(), 'lgsp_backlog_full', 'dvcqg') === 1)

  const refused = await s.post('onestop', '/v1/dossiers', hoso(704))
  t.equal(refused.statusCode, 503)
  t.match(refused.headers['content-type'], /^application\/problem\+json/)
  t.equal((refused.json() as { code: string }).code, 'LGSP_ERR_SERVER_BACKLOG')
  const retryAfter = Number(refused.headers['retry-after'])
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After is whole seconds (${String(refused.headers['retry-after'])})`)
  t.equal((await s.get('onestop', `/v1/dossiers/${hoso(704).MaHoSo}`)).statusCode, 404, 'the refused dossier was not stored')
  t.ok((sample(await metrics(), 'lgsp_backlog_refused_total', 'dvcqg') ?? 0) >= 1, 'the refusal is counted per destination')

  // A repeat of an accepted message is not a new one: its first answer, bound or not.
  const repeat = await s.post('onestop', '/v1/dossiers', hoso(701))
  t.equal(repeat.statusCode, 202)
  t.equal((repeat.json() as { messageId: string }).messageId, first[0]!.messageId, 'the first answer')

  const queue = async (): Promise<QueueStats> => (await s.gateway.store.queueStats()).find((q) => q.destination === 'dvcqg')!
  t.equal((await queue()).pending + (await queue()).inflight, 3, 'the three accepted units still wait')

  // DVCQG back: everything accepted is delivered, the bound lifts, intake takes messages again.
  s.dvcqg.server.setFaults({ mode: 'none' })
  await waitFor('the three accepted dossiers delivered', () => [701, 702, 703].every((n) => s.dvcqg.dossiers.has(hoso(n).MaHoSo)))
  await waitFor('the bound lifted', async () => sample(await metrics(), 'lgsp_backlog_full', 'dvcqg') === 0)
  t.equal((await s.post('onestop', '/v1/dossiers', hoso(704))).statusCode, 202, 'accepted once the backlog drained')
})

t.test('Retry-After is the time the observed drain rate takes to make room, between 1 and 60 s', async (t) => {
  let now = 0
  let stats: QueueStats[] = []
  const bp = new Backpressure({ queueStats: async () => stats }, { limit: 20, limits: { other: 0 }, refreshMs: 1000 }, () => now)
  const at = (pending: number, delivered: number): QueueStats[] => [
    { destination: 'dvcqg', pending, inflight: 0, dead: 7, delivered, oldestAgeMs: 0 },
    { destination: 'other', pending: 1000, inflight: 0, dead: 0, delivered: 0, oldestAgeMs: 0 }
  ]
  stats = at(19, 0)
  await bp.refresh()
  t.equal(bp.check(['dvcqg', 'other']), undefined, 'under the bound; a destination with bound 0 is never refused')
  bp.added(['dvcqg'])
  t.match(bp.check(['dvcqg']), { destination: 'dvcqg', backlog: 20, limit: 20 }, 'units accepted since the read count')

  now = 2000
  stats = at(30, 20)
  await bp.refresh()
  // 10 delivered per second; 10 over the bound plus a tenth of it (2) to make room: 2 s.
  t.match(bp.check(['other', 'dvcqg']), { destination: 'dvcqg', backlog: 30, retryAfter: 2 })

  now = 4000
  stats = at(30, 20)
  await bp.refresh()
  t.match(bp.check(['dvcqg']), { retryAfter: 60 }, 'nothing drained: the longest wait')
  t.notOk(new Backpressure({ queueStats: async () => [] }, { limit: 0, refreshMs: 1000 }).enabled, 'no bound: off')
})
