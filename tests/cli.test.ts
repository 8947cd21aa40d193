import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { projectRoot } from '../gateway/paths.js'
import { hoso, progress, startStack, testConfigDocument, waitFor, type Stack } from './helpers.js'
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
  await waitFor('dead-lettered', async () => JSON.parse(await lgsp(s, 'dlq', 'list')).length === 1)
  const [entry] = JSON.parse(await lgsp(s, 'dlq', 'list')) as Array<{ id: number, code: string, maHoSo: string }>
  t.match(entry, { maHoSo: record.MaHoSo, code: 'LGSP_ERR_DVCQG_REJECTED' })
  lift()
  t.equal((await lgsp(s, 'dlq', 'replay', String(entry!.id))).trim(), `replayed ${entry!.id}`)
  await waitFor('delivered after the replay', () => s.dvcqg.dossiers.get(record.MaHoSo)?.progress.length === 1)
  t.same(JSON.parse(await lgsp(s, 'dlq', 'list')), [])
  await t.rejects(lgsp(s, 'dlq', 'replay', '99999'), { code: 1 }, 'an unknown entry exits 1')
  t.match(JSON.parse(await lgsp(s, 'queues')), [{ destination: 'dvcqg', dead: 0 }])
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
  const out = JSON.parse(await lgsp(s, 'payments', 'settle', '--date', today)) as { pass: { settled: number }, report: { paid: { count: number, amount: number } } }
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
  const report = JSON.parse(await lgsp(s, 'indicators', '--agency', '000.00.01.H56', '--period', '2024-02')) as { closed: boolean, report: { received: number } }
  t.match(report, { closed: false, report: { received: 1 } })
  s.dvcqg.dossiers.delete(record.MaHoSo)
  const found = JSON.parse(await lgsp(s, 'reconcile', '--agency', '000.00.00.H56', '--period', '2024-02')) as { differences: Array<{ kind: string }>, dryRun: boolean }
  t.match(found, { dryRun: true, differences: [{ kind: 'missing' }] })
  const repaired = JSON.parse(await lgsp(s, 'reconcile', '--agency', '000.00.00.H56', '--period', '2024-02', '--repair')) as { repaired: number }
  t.equal(repaired.repaired, 1)
  await waitFor('re-sent by the running gateway', () => s.dvcqg.dossiers.has(record.MaHoSo))
})
