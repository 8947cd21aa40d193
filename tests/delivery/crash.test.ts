import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { request } from 'undici'
import { DvcqgSimulator } from '../../adapters/dvcqg/simulator.js'
import { OnestopSimulator } from '../../adapters/onestop/simulator.js'
import { projectRoot } from '../../gateway/paths.js'
import { hoso, progress, tempDir, testConfigDocument, tokenFrom, waitFor } from '../helpers.js'
import { freePort } from '../../adapters/simulator-kit.js'

const cli = join(projectRoot, 'dist', 'gateway', 'cli.js')
const TOTAL = 2500
const KILL_AFTER = 900

t.test('kill -9 mid-load: every dossier that got a 202 reaches DVCQG, none applied twice, and each one DVCQG holds is counted synced once', async (t) => {
  const dir = tempDir(t, 'lgsp-crash-')
  const dvcqg = await new DvcqgSimulator().start()
  const onestop = await new OnestopSimulator().start()
  // Replies come 40 ms after DVCQG applied the call: at the kill, some units are applied but unacknowledged.
  dvcqg.server.setFaults({ mode: 'slow', delayMs: 40, paths: [dvcqg.integrationPath] })
  const port = await freePort()
  const configFile = join(dir, 'lgsp.config.json')
  const doc = testConfigDocument(dir, dvcqg.url, onestop.url, { http: { host: '127.0.0.1', port } })
  writeFileSync(configFile, JSON.stringify({ ...doc, store: { path: join(dir, 'lgsp.db'), synchronous: 'full' } }))
  const base = `http://127.0.0.1:${port}`
  const log = openSync(join(dir, 'gateway.log'), 'a')
  let child: ChildProcess | undefined
  const startChild = async (): Promise<void> => {
    child = spawn(process.execPath, [cli, 'start', '--config', configFile], { stdio: ['ignore', log, log] })
    // A process start on two busy cores can take well over 20 s.
    await waitFor('gateway ready', async () => {
      try {
        return (await request(`${base}/readyz`)).statusCode === 200
      } catch {
        return false
      }
    }, 120_000)
  }
  t.teardown(async () => {
    if (!t.passing()) t.comment(`gateway log (tail):\n${readFileSync(join(dir, 'gateway.log'), 'utf8').split('\n').slice(-40).join('\n')}`)
    child?.kill('SIGKILL')
    await dvcqg.stop()
    await onestop.stop()
  })
  await startChild()

  const token = await tokenFrom(base)
  const accepted = new Set<string>()
  const withProgress = new Set<string>()
  let next = 1
  let killed = false
  let crashes = 0

  const post = async (path: string, body: unknown): Promise<number> => {
    const res = await request(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    await res.body.dump()
    return res.statusCode
  }
  // 24 clients post until the total is reached; the gateway is killed under them once.
  const client = async (): Promise<void> => {
    while (next <= TOTAL) {
      const n = next++
      const record = hoso(n)
      try {
        if (await post('/v1/dossiers', record) !== 202) continue
        accepted.add(record.MaHoSo)
        if (n % 5 === 0 && await post(`/v1/dossiers/${record.MaHoSo}/progress`, [progress(record.MaHoSo, 10, 4), progress(record.MaHoSo, 20, 9, 'Xong')]) === 202) {
          withProgress.add(record.MaHoSo)
        }
      } catch {
        // The gateway is down: wait until it is back, then go on.
        await waitFor('gateway back', () => !killed, 60_000)
      }
      if (crashes === 0 && accepted.size >= KILL_AFTER) {
        crashes++
        killed = true
        child!.kill('SIGKILL')
        await new Promise((resolve) => child!.once('exit', resolve))
        await startChild()
        killed = false
      }
    }
  }
  await Promise.all(Array.from({ length: 24 }, client))
  t.equal(crashes, 1, 'the gateway was killed once under load')
  t.ok(accepted.size >= TOTAL * 0.95, `${accepted.size} of ${TOTAL} accepted around the crash`)

  await waitFor('every accepted dossier at DVCQG', () => [...accepted].every((id) => dvcqg.dossiers.has(id)) &&
    [...withProgress].every((id) => dvcqg.dossiers.get(id)!.progress.length === 2), 120_000)
  t.equal(dvcqg.repeats, 0, 'no record or progress entry applied twice')
  const twice = [...dvcqg.dossiers.values()].filter((d) => d.creates + d.updates !== 1)
  t.same(twice.map((d) => d.record.MaHoSo), [], 'each dossier synced exactly once')
  for (const id of withProgress) t.same(dvcqg.arrivals.get(id), [progress(id, 10, 4).ThoiDiemXuLy, progress(id, 20, 9).ThoiDiemXuLy], `${id} in order`)
  t.ok((dvcqg.calls.TraCuuHoSo ?? 0) > 0, `units in flight at the kill were checked with TraCuuHoSo first (${dvcqg.calls.TraCuuHoSo ?? 0})`)
  child!.kill('SIGTERM')
  await new Promise((resolve) => child!.once('exit', resolve))

  // Decision 766 dossier sync: "DVCQG holds this dossier" is written with the delivery's
  // completion, so units answered after the kill (uncertain, checked with TraCuuHoSo) and units
  // recorded before it alike leave exactly the dossiers DVCQG holds marked synced.
  const db = new Database(join(dir, 'lgsp.db'), { readonly: true })
  const facts = db.prepare('SELECT ma_ho_so AS id, synced FROM dossier_facts').all() as Array<{ id: string, synced: number }>
  db.close()
  const synced = new Set(facts.filter((f) => f.synced === 1).map((f) => f.id))
  t.same([...accepted].filter((id) => !synced.has(id)), [], 'no accepted dossier lost its sync fact')
  t.same([...synced].filter((id) => !dvcqg.dossiers.has(id)), [], 'nothing marked synced that DVCQG does not hold')
  t.equal(facts.length, new Set(facts.map((f) => f.id)).size, 'one fact row per dossier')
})
