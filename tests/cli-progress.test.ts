/**
 * Progress of the long commands goes to stderr, only with --progress (or a terminal), and
 * never into the --json result on stdout.
 */
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { projectRoot } from '../gateway/paths.js'
import { hoso, startStack, testConfigDocument, waitFor } from './helpers.js'

const run = promisify(execFile)
const cli = join(projectRoot, 'dist', 'gateway', 'cli.js')

t.test('reconcile and log verify: progress on stderr with --progress, clean JSON on stdout', async (t) => {
  const s = await startStack(t)
  const record = hoso(7)
  await s.post('onestop', '/v1/dossiers', record)
  await waitFor('synced', () => s.dvcqg.dossiers.has(record.MaHoSo))
  const file = join(s.dir, 'cli.config.json')
  writeFileSync(file, JSON.stringify(testConfigDocument(s.dir, s.dvcqg.url, s.onestop.url, {}, s.paygov)))
  const lgsp = async (...args: string[]): Promise<{ stdout: string, stderr: string }> => await run(process.execPath, [cli, ...args, '--config', file])

  const reconcile = ['reconcile', '--agency', '000.00.00.H56', '--period', '2024-02', '--json']
  const shown = await lgsp(...reconcile, '--progress')
  t.match(shown.stderr, /^lgsp reconcile: comparing the ledger of 000\.00\.00\.H56 for 2024-02 with DVCQG .*\(\d+\.\d s\)\n/, 'a line per step on stderr')
  t.match(shown.stderr, /\nlgsp reconcile: done \(\d+\.\d s\)\n$/)
  t.match(JSON.parse(shown.stdout), { dryRun: true, differences: [] }, 'stdout is the JSON result alone')
  const quiet = await lgsp(...reconcile)
  t.equal(quiet.stderr, '', 'no progress when stderr is not a terminal and --progress is not given')
  t.same(JSON.parse(quiet.stdout), JSON.parse(shown.stdout))

  const verify = await lgsp('log', 'verify', '--json', '--progress')
  t.match(verify.stderr, /lgsp log verify: reading chain local/)
  t.match(verify.stderr, /lgsp log verify: checking chain local: \d+ entries, \d+ checkpoints/)
  t.match(JSON.parse(verify.stdout), { ok: true })
})
