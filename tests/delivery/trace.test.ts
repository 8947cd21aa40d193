/**
 * The W3C trace of the request that brought a message continues into its deliveries: the
 * outbound traceparent keeps the caller's trace id with a new span per attempt, and the
 * delivery's log lines carry it. Without one, the message id is the trace id.
 */
import t from 'tap'
import { hoso, progress, startStack, waitFor } from '../helpers.js'

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
const incoming = `00-${traceId}-00f067aa0ba902b7-01`

t.test('a traceparent sent on POST reaches the simulator\'s request headers with a new span id per attempt', async (t) => {
  const s = await startStack(t)
  const record = hoso(41)
  const res = await s.post('onestop', '/v1/dossiers', record, { traceparent: incoming })
  t.equal(res.statusCode, 202)
  await waitFor('delivered to DVCQG', () => s.dvcqg.dossiers.has(record.MaHoSo))
  const calls = s.dvcqg.server.traces.filter((c) => c.path !== '/_sim/state')
  const traced = calls.filter((c) => c.traceparent.split('-')[1] === traceId)
  t.ok(traced.length >= 1, 'DVCQG received the caller\'s trace id')
  for (const c of traced) {
    t.match(c.traceparent, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`))
    t.not(c.traceparent, incoming, 'the gateway\'s own span, not the caller\'s')
  }

  // A second message without a traceparent: its deliveries trace under its message id.
  const untraced = (await s.post('onestop', `/v1/dossiers/${record.MaHoSo}/progress`, progress(record.MaHoSo, 2, 1))).json() as { messageId: string }
  await waitFor('progress delivered', () => (s.dvcqg.dossiers.get(record.MaHoSo)?.progress.length ?? 0) === 1)
  const own = untraced.messageId.replace(/-/g, '')
  t.ok(s.dvcqg.server.traces.some((c) => c.traceparent.split('-')[1] === own), 'the message id is the trace id without a traceparent')
  t.notOk(s.dvcqg.server.traces.slice(calls.length).some((c) => c.traceparent.split('-')[1] === traceId), 'one request\'s trace does not leak into the next message')
})

t.test('the delivery log lines carry the caller\'s trace id, attempts across a retry each with their own span', async (t) => {
  const s = await startStack(t)
  const record = hoso(42)
  const failed = (): Array<Record<string, any>> => s.logs.map((l) => JSON.parse(l) as Record<string, any>).filter((l) => l.msg === 'delivery failed, will retry' && l.maHoSo === record.MaHoSo)
  s.dvcqg.server.setFaults({ mode: 'error', paths: ['/api/integration'] })
  await s.post('onestop', '/v1/dossiers', record, { traceparent: incoming })
  await waitFor('a failed attempt', () => failed().length >= 1)
  s.dvcqg.server.setFaults({ mode: 'none' })
  await waitFor('delivered after the retry', () => s.dvcqg.dossiers.has(record.MaHoSo))
  const spans = new Set(s.dvcqg.server.traces.filter((c) => c.traceparent.includes(traceId)).map((c) => c.traceparent))
  t.ok(spans.size >= 2, 'a new span id per attempt under the same trace')
  const lines = failed()
  t.ok(lines.length >= 1, 'the failed attempt is logged')
  for (const l of lines) {
    t.equal(l.traceId, traceId)
    t.match(l.traceparent, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`))
  }
})
