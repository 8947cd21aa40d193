import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { projectRoot } from '../gateway/paths.js'
import { hoso, lgspBare, progress, startStack, testConfigDocument, waitFor, type Stack } from './helpers.js'
import { poisonProgress } from './delivery/poison.js'

const run = promisify(execFile)
const cli = join(projectRoot, 'dist', 'gateway', 'cli.js')

/** Runs `lgsp` against the same store file as the running gateway. */
async function lgsp (s: Stack, ...args: string[]): Promise<string> {
  const file = join(s.dir, 'cli.config.json')
  writeFileSync(file, JSON.stringify(testConfigDocument(s.dir, s.dvcqg.url, s.onestop.url, {}, s.paygov)))
  const { stdout } = await run(process.execPath, [cli, ...args, '--config', file])
  return stdout
}

t.test('lgsp dlq list and replay operate on the running gateway\'s store', async (t) => {
  const s = await startStack(t)
  const record = hoso(1)
  await s.post('onestop', '/v1/dossiers', record)
  await waitFor('synced', () => s.dvcqg.dossiers.has(record.MaHoSo))
  const lift = poisonProgress(s.dvcqg, record.MaHoSo)
  await s.post('onestop', `/v1/dossiers/${record.MaHoSo}/progress`, progress(record.MaHoSo, 10, 4))
  await waitFor('dead-lettered', async () => JSON.parse(await lgsp(s, 'dlq', 'list', '--json')).length === 1)
  const [entry] = JSON.parse(await lgsp(s, 'dlq', 'list', '--json')) as Array<{ id: number, code: string, maHoSo: string, failedAt: string }>
  t.match(entry, { maHoSo: record.MaHoSo, code: 'LGSP_ERR_DVCQG_REJECTED', failedAt: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/ }, 'times are ISO 8601, not epoch milliseconds')
  const table = await lgsp(s, 'dlq', 'list')
  t.match(table, /^id\s+destination\s+dossier\s+op\s+attempts\s+code\s+failedAt/, 'a readable table by default')
  t.match(table, new RegExp(`${entry!.id}\\s+dvcqg\\s+${record.MaHoSo.replace(/\./g, '\\.')}`))
  lift()
  t.match((await lgsp(s, 'dlq', 'replay', String(entry!.id))).trim(), new RegExp(`^replayed ${entry!.id} \\(message log: [0-9a-f-]{36}\\)$`))
  await waitFor('delivered after the replay', () => s.dvcqg.dossiers.get(record.MaHoSo)?.progress.length === 1)
  t.same(JSON.parse(await lgsp(s, 'dlq', 'list', '--json')), [])
  await t.rejects(lgsp(s, 'dlq', 'replay', '99999'), { code: 1 }, 'an unknown entry exits 1')
  await t.rejects(lgsp(s, 'dlq', 'discard', '--destination', 'dvcqg'), { code: 1 }, 'a bulk discard without a reason is refused')
  t.match(JSON.parse(await lgsp(s, 'queues', '--json')), [{ destination: 'dvcqg', dead: 0 }])
})

t.test('lgsp payments settle confirms a payment whose callback never came', async (t) => {
  const s = await startStack(t, { listen: true })
  const record = hoso(2)
  await s.post('onestop', '/v1/dossiers', record)
  const res = await s.post('onestop', '/v1/payments', { MaHoSo: record.MaHoSo, MaDonVi: 'H56', PhiLePhi: [{ TenPhiLePhi: 'Lệ phí', Gia: 70000 }] })
  const { MaThamChieu: reference } = res.json() as { MaThamChieu: string }
  s.paygov.misbehaviour = { ...s.paygov.misbehaviour, dropRate: 1 }
  s.paygov.pay(reference)
  const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10)
  const out = JSON.parse(await lgsp(s, 'payments', 'settle', '--date', today, '--json')) as { pass: { settled: number }, report: { paid: { count: number, amount: number } } }
  t.equal(out.pass.settled, 1)
  t.same(out.report.paid, { count: 1, amount: 70000 })
  // The effect went into the shared outbox; the running gateway's worker delivers it.
  await waitFor('DVCQG shows it paid', () => s.dvcqg.dossiers.get(record.MaHoSo)?.record.DuocThanhToanTrucTuyen === '2')
})

t.test('lgsp indicators and lgsp reconcile read the running gateway\'s store', async (t) => {
  const s = await startStack(t)
  const record = hoso(3)
  await s.post('onestop', '/v1/dossiers', record)
  await waitFor('synced', () => s.dvcqg.dossiers.has(record.MaHoSo))
  const report = JSON.parse(await lgsp(s, 'indicators', '--agency', '000.00.01.H56', '--period', '2024-02', '--json')) as { closed: boolean, report: { received: number } }
  t.match(report, { closed: false, report: { received: 1 } })
  s.dvcqg.dossiers.delete(record.MaHoSo)
  const found = JSON.parse(await lgsp(s, 'reconcile', '--agency', '000.00.00.H56', '--period', '2024-02', '--json')) as { differences: Array<{ kind: string }>, dryRun: boolean }
  t.match(found, { dryRun: true, differences: [{ kind: 'missing' }] })
  const repaired = JSON.parse(await lgsp(s, 'reconcile', '--agency', '000.00.00.H56', '--period', '2024-02', '--repair', '--json')) as { repaired: number }
  t.equal(repaired.repaired, 1)
  await waitFor('re-sent by the running gateway', () => s.dvcqg.dossiers.has(record.MaHoSo))
})

/** Runs `lgsp` without a store. */
const bare = lgspBare

const everyCommand = ['start', 'demo', 'queues', 'dlq list', 'dlq replay', 'dlq discard', 'payments settle', 'indicators', 'reconcile', 'members hash-secret',
  'certs init', 'certs issue', 'certs revoke', 'certs import', 'certs trust', 'verify', 'log verify', 'log export', 'log show']

t.test('lgsp --help lists every command; lgsp <command> --help explains each one', async (t) => {
  for (const flag of ['--help', '-h']) {
    const top = await bare(flag)
    t.equal(top.code, 0, `lgsp ${flag} exits 0`)
    t.equal(top.stderr, '', 'no stack trace')
    for (const c of everyCommand) t.match(top.stdout, new RegExp(`\\n  ${c}\\b`), `${c} is listed`)
  }
  for (const c of everyCommand) {
    const help = await bare(...c.split(' '), '--help')
    t.equal(help.code, 0, `lgsp ${c} --help exits 0`)
    t.match(help.stdout, new RegExp(`^Usage: lgsp ${c}\\b`), `lgsp ${c} --help shows its usage`)
    t.match(help.stdout, /--config FILE/)
  }
  t.match((await bare('dlq', 'list', '--help')).stdout, /--limit N\s+at most N entries \(default: 100\)/)
  const group = await bare('dlq')
  t.equal(group.code, 2, 'a group without its command is a usage mistake')
  t.match(group.stdout, /lgsp dlq <list\|replay\|discard>/)
  t.match((await bare('--version')).stdout, /^\d+\.\d+\.\d+/)
})

t.test('lgsp suggests the command or option meant, exits 2 and prints no stack', async (t) => {
  const typo = await bare('queus')
  t.equal(typo.code, 2)
  t.match(typo.stderr, /'queus' is not a command\. Did you mean 'lgsp queues'\?/)
  t.notMatch(typo.stderr, /at .*\.js:\d+/, 'no stack trace')
  t.match((await bare('dlq', 'lst')).stderr, /Did you mean 'lgsp dlq list'\?/)
  t.match((await bare('reconcle', '--agency', 'x')).stderr, /Did you mean 'lgsp reconcile'\?/)
  const option = await bare('dlq', 'list', '--limt', '3')
  t.equal(option.code, 2)
  t.match(option.stderr, /unknown option --limt\. Did you mean --limit\?/)
  t.match((await bare('--config', '/x.json', 'queus')).stderr, /Did you mean 'lgsp queues'/, 'an option value is not taken for the command')
})

t.test('a missing or broken config is one sentence naming the file, not a stack', async (t) => {
  const missing = await bare('queues', '--config', '/nonexistent/lgsp.config.json')
  t.equal(missing.code, 1)
  t.match(missing.stderr, /^lgsp: LGSP_ERR_CONFIG_INVALID: Cannot read the configuration file \/nonexistent\/lgsp\.config\.json: give its path with --config or LGSP_CONFIG\.\n$/)
})
