import { poisonProgress } from './delivery/poison.js'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { pino } from 'pino'
import type { Logger } from '../gateway/logger.js'
import { metrics } from '../gateway/metrics.js'
import { Periodic } from '../gateway/periodic.js'
import { CITIZEN_ID, hoso, progress, startStack, waitFor } from './helpers.js'

/** Parses the exposition text: TYPE per family, and every sample line. */
function parse (text: string): { types: Map<string, string>, samples: Array<{ name: string, labels: Record<string, string>, value: number }> } {
  const types = new Map<string, string>()
  const samples: Array<{ name: string, labels: Record<string, string>, value: number }> = []
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type !== null) types.set(type[1]!, type[2]!)
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!
    samples.push({ name: m[1]!, labels, value: Number(m[3]) })
  }
  return { types, samples }
}

const sum = (p: ReturnType<typeof parse>, name: string, labels: Record<string, string> = {}): number =>
  p.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0)

t.test('a scrape after a flow shows the lgsp_ families with their types, counters that moved, and no personal data', async (t) => {
  const s = await startStack(t)
  const scrape = async (): Promise<ReturnType<typeof parse>> => {
    const res = await s.gateway.app.inject({ method: 'GET', url: '/metrics' })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
    return parse(res.body)
  }
  const before = await scrape()

  const record = hoso(1, { ChuHoSo: 'Nguyễn Văn An' })
  t.equal((await s.post('onestop', '/v1/dossiers', record)).statusCode, 202)
  t.equal((await s.post('onestop', `/v1/dossiers/${record.MaHoSo}/progress`, progress(record.MaHoSo, 60, 4))).statusCode, 202)
  t.equal((await s.post('onestop', '/v1/dossiers', { ...hoso(2), MaTTHC: undefined })).statusCode, 422)
  await waitFor('two units delivered to DVCQG', async () => sum(await scrape(), 'lgsp_queue_units', { destination: 'dvcqg', state: 'delivered' }) >= 2)
  t.equal((await s.get('reader', '/v1/indicators?agency=000.00.00.H56&period=2024')).statusCode, 200)

  const res = await s.gateway.app.inject({ method: 'GET', url: '/metrics' })
  const after = parse(res.body)

  const expected: Record<string, string> = {
    lgsp_messages_accepted_total: 'counter',
    lgsp_messages_refused_total: 'counter',
    lgsp_messages_replayed_total: 'counter',
    lgsp_intake_duration_seconds: 'histogram',
    lgsp_store_commit_duration_seconds: 'histogram',
    lgsp_queue_units: 'gauge',
    lgsp_queue_oldest_pending_age_seconds: 'gauge',
    lgsp_dead_letters: 'gauge',
    lgsp_delivery_attempts_total: 'counter',
    lgsp_upstream_duration_seconds: 'histogram',
    lgsp_breaker_state: 'gauge',
    lgsp_receipts_total: 'counter',
    lgsp_batch_signatures_total: 'counter',
    lgsp_batch_signed_messages_total: 'counter',
    lgsp_job_runs_total: 'counter',
    lgsp_job_failures_total: 'counter',
    lgsp_indicator_job_duration_seconds: 'histogram',
    process_cpu_user_seconds_total: 'counter',
    nodejs_eventloop_lag_seconds: 'gauge'
  }
  for (const [name, type] of Object.entries(expected)) t.equal(after.types.get(name), type, `${name} is a ${type}`)
  // Prometheus conventions: counters end in _total, durations are in seconds.
  for (const [name, type] of after.types) {
    if (!name.startsWith('lgsp_')) continue
    if (type === 'counter') t.match(name, /_total$/, `${name} ends in _total`)
    if (type === 'histogram') t.match(name, /_seconds$/, `${name} is in seconds`)
  }

  const moved = (name: string, labels: Record<string, string>): number => sum(after, name, labels) - sum(before, name, labels)
  t.equal(moved('lgsp_messages_accepted_total', { kind: 'dossier', member: 'onestop-test' }), 1, 'one dossier accepted')
  t.equal(moved('lgsp_messages_accepted_total', { kind: 'progress', member: 'onestop-test' }), 1, 'one progress accepted')
  t.equal(moved('lgsp_messages_refused_total', { kind: 'dossier', member: 'onestop-test', code: 'LGSP_ERR_REQUEST_INVALID' }), 1, 'one refusal by code')
  t.equal(moved('lgsp_intake_duration_seconds_count', { kind: 'dossier' }), 2, 'intake latency observed for both dossier posts')
  t.ok(moved('lgsp_store_commit_duration_seconds_count', { op: 'accept' }) >= 2, 'accept commits timed')
  t.ok(moved('lgsp_store_commit_duration_seconds_count', { op: 'complete' }) >= 2, 'delivery outcomes timed')
  t.ok(moved('lgsp_delivery_attempts_total', { destination: 'dvcqg', outcome: 'delivered', code: 'none' }) >= 2, 'delivery attempts counted')
  t.ok(moved('lgsp_upstream_duration_seconds_count', { destination: 'dvcqg', result: 'ok' }) >= 2, 'upstream latency observed')
  t.ok(moved('lgsp_indicator_job_duration_seconds_count', { job: 'indicators' }) >= 1, 'indicator computation timed')
  t.equal(sum(after, 'lgsp_breaker_state', { destination: 'dvcqg' }), 0, 'breaker closed')
  t.equal(sum(after, 'lgsp_dead_letters', { destination: 'dvcqg' }), 0)
  t.ok(after.samples.some((x) => x.name === 'lgsp_queue_oldest_pending_age_seconds' && x.labels.destination === 'dvcqg'), 'oldest age per destination')
  if (s.config.signatures.receipts) {
    t.ok(moved('lgsp_receipts_total', {}) >= 2, 'receipts counted')
    t.ok(moved('lgsp_batch_signed_messages_total', {}) >= 2, 'batch signatures cover the messages')
  }

  // Low cardinality and no personal data: no dossier code, citizen ID or name anywhere.
  t.notMatch(res.body, record.MaHoSo)
  t.notMatch(res.body, CITIZEN_ID)
  t.notMatch(res.body, 'Nguyễn')
  t.notMatch(res.body, record.SoGiayToChuHoSo ?? CITIZEN_ID)
  const labelNames = new Set(after.samples.filter((x) => x.name.startsWith('lgsp_')).flatMap((x) => Object.keys(x.labels)))
  t.same([...labelNames].sort(), ['code', 'destination', 'job', 'kind', 'le', 'member', 'op', 'outcome', 'result', 'state'].filter((l) => labelNames.has(l)), 'only the known labels')
  t.notOk(labelNames.has('maHoSo') || labelNames.has('MaHoSo'))

  // The Grafana dashboard uses only metrics the gateway exposes.
  const dashboard = readFileSync(new URL('../docs/grafana-dashboard.json', import.meta.url), 'utf8')
  const used = new Set([...dashboard.matchAll(/\b((?:lgsp|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!))
  t.ok(used.size >= 20, `${used.size} metrics in the dashboard`)
  for (const name of used) t.ok(after.types.has(name) || after.types.has(name.replace(/_(bucket|sum|count)$/, '')), `dashboard metric ${name} is exposed`)
})

t.test('a delivery that fails is counted by outcome and code, and dead letters show', async (t) => {
  const s = await startStack(t)
  const record = hoso(7)
  t.equal((await s.post('onestop', '/v1/dossiers', record)).statusCode, 202)
  await waitFor('dossier synced', () => s.dvcqg.dossiers.has(record.MaHoSo))
  // DVCQG refuses the dossier's progress for good, even after the gateway re-syncs it.
  poisonProgress(s.dvcqg, record.MaHoSo)
  t.equal((await s.post('onestop', `/v1/dossiers/${record.MaHoSo}/progress`, progress(record.MaHoSo, 10, 4))).statusCode, 202)
  await waitFor('a dead letter', async () => {
    const p = parse((await s.gateway.app.inject({ method: 'GET', url: '/metrics' })).body)
    return sum(p, 'lgsp_dead_letters', { destination: 'dvcqg' }) >= 1
  })
  const p = parse((await s.gateway.app.inject({ method: 'GET', url: '/metrics' })).body)
  t.ok(sum(p, 'lgsp_delivery_attempts_total', { destination: 'dvcqg', outcome: 'dead' }) >= 1, 'dead outcome counted')
  t.ok(p.samples.some((x) => x.name === 'lgsp_delivery_attempts_total' && x.labels.outcome === 'dead' && x.labels.code!.startsWith('LGSP_ERR_')), 'with its code')
  t.equal(sum(p, 'lgsp_queue_units', { destination: 'dvcqg', state: 'dead' }), 1)
})

t.test('/metrics is restricted to metrics.allowFrom or metrics.token when either is set', async (t) => {
  const token = 'scrape-token-0123456789'
  const byToken = await startStack(t, { configExtra: { metrics: { allowFrom: ['10.9.9.9'], token } } })
  const refused = await byToken.gateway.app.inject({ method: 'GET', url: '/metrics' })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'LGSP_ERR_AUTH_METRICS_FORBIDDEN')
  t.equal((await byToken.gateway.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong-token-000000000' } })).statusCode, 403)
  t.equal((await byToken.gateway.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)

  const byAddress = await startStack(t, { configExtra: { metrics: { allowFrom: ['127.0.0.1'] } } })
  t.equal((await byAddress.gateway.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200, 'loopback is listed')

  const off = await startStack(t, { configExtra: { metrics: { enabled: false } } })
  t.equal((await off.gateway.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404)
})

t.test('periodic jobs count their runs, failures and last success', async (t) => {
  let runs = 0
  const job = new Periodic('metrics test job', 5, async () => {
    runs++
    if (runs === 2) throw new Error('second pass fails')
  }, pino({ level: 'silent' }) as unknown as Logger)
  job.start()
  await waitFor('three passes', () => runs >= 3)
  await job.stop()
  const p = parse(await metrics.text())
  t.ok(sum(p, 'lgsp_job_runs_total', { job: 'metrics-test-job' }) >= 3)
  t.equal(sum(p, 'lgsp_job_failures_total', { job: 'metrics-test-job' }), 1)
  t.ok(sum(p, 'lgsp_job_last_success_timestamp_seconds', { job: 'metrics-test-job' }) > 0)
})
