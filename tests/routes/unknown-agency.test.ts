/**
 * Indicators for an agency lgsp has never heard of are a 404 problem, not zeros that look
 * like an idle agency; known codes (config, DVCQG's list, the province, the ledger) answer.
 */
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { projectRoot } from '../../gateway/paths.js'
import { hoso, startStack, testConfigDocument, waitFor } from '../helpers.js'

const run = promisify(execFile)
const agencies = [{ code: '000.00.05.H56', name: 'Sở Tư pháp' }, { code: '000.31.05.H56', name: 'UBND xã', parent: '000.00.06.H56' }]

t.test('GET /v1/indicators and lgsp indicators refuse an unknown agency with LGSP_ERR_INDICATORS_UNKNOWN_AGENCY', async (t) => {
  const s = await startStack(t, { configExtra: { agencies } })
  const record = hoso(1)
  await s.post('onestop', '/v1/dossiers', record)
  await waitFor('synced', () => s.dvcqg.dossiers.has(record.MaHoSo))
  const get = async (agency: string): Promise<{ statusCode: number, headers: Record<string, unknown>, json: () => any }> => await s.get('reader', `/v1/indicators?agency=${agency}&period=2024-02`)

  for (const agency of ['000.00.99.H56', '000.00.00.H99', '000.31.05.H57']) {
    const res = await get(agency)
    t.equal(res.statusCode, 404, `${agency} is unknown`)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.match(res.json(), { status: 404, code: 'LGSP_ERR_INDICATORS_UNKNOWN_AGENCY', detail: new RegExp(agency.replace(/\./g, '\\.')) })
  }
  t.equal((await s.post('operator', '/v1/indicators/close', { agency: '000.00.99.H56', period: '2024-02' })).json().code, 'LGSP_ERR_INDICATORS_UNKNOWN_AGENCY', 'no period is closed for an unknown agency')
  t.equal((await get('x')).json().code, 'LGSP_ERR_INDICATORS_AGENCY', 'a malformed code stays a 400')

  const known: Array<[string, string]> = [
    ['000.00.00.H56', 'the province of the DVCQG destination'],
    ['000.00.05.H56', 'an agency of the config'],
    ['000.00.06.H56', 'a parent named in the config'],
    ['000.00.01.H56', 'an agency the ledger holds a dossier of']
  ]
  for (const [agency, why] of known) t.equal((await get(agency)).statusCode, 200, `${agency}: ${why}`)
  t.match((await get('000.00.05.H56')).json(), { closed: false, report: { received: 0 } }, 'a known agency without dossiers has zeros')
  s.gateway.catalogue.learnAgencies([{ MaDonVi: '000.00.13.H56', TenDonVi: 'Sở GTVT', CapDonVi: '2' }])
  t.equal((await get('000.00.13.H56')).statusCode, 200, 'an agency of DVCQG\'s list (catalogue sync)')

  const file = join(s.dir, 'cli.config.json')
  writeFileSync(file, JSON.stringify(testConfigDocument(s.dir, s.dvcqg.url, s.onestop.url, { agencies }, s.paygov)))
  const cli = join(projectRoot, 'dist', 'gateway', 'cli.js')
  await t.rejects(run(process.execPath, [cli, 'indicators', '--agency', '000.00.99.H56', '--period', '2024-02', '--config', file]), {
    code: 1, stderr: /^lgsp: LGSP_ERR_INDICATORS_UNKNOWN_AGENCY: No agency 000\.00\.99\.H56 /
  }, 'the CLI says the same, with exit 1')
  const { stdout } = await run(process.execPath, [cli, 'indicators', '--agency', '000.00.05.H56', '--period', '2024-02', '--json', '--config', file])
  t.match(JSON.parse(stdout), { report: { received: 0 } })
})
