import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { DvcqgSimulator } from '../adapters/dvcqg/index.js'
import { OnestopSimulator } from '../adapters/onestop/index.js'
import { freePort } from '../adapters/simulator-kit.js'
import { projectRoot } from '../gateway/paths.js'
import { SqliteStore } from '../gateway/store/sqlite.js'
import { hoso, startStack, tempDir, testConfigDocument, tokenFrom, waitFor } from './helpers.js'

t.test('/healthz and /readyz', async (t) => {
  const s = await startStack(t)
  t.same((await s.gateway.app.inject({ url: '/healthz' })).json(), { status: 'ok' })
  const ready = await s.gateway.app.inject({ url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.match(ready.json(), { status: 'ready', store: 'sqlite', workers: [{ destination: 'dvcqg', running: true }, { destination: 'onestop', running: true }] })
  await s.gateway.delivery!.stop()
  const notReady = await s.gateway.app.inject({ url: '/readyz' })
  t.equal(notReady.statusCode, 503)
  t.match(notReady.json(), { code: 'LGSP_ERR_SERVER_UNAVAILABLE', detail: /workers down/ })
})

t.test('SIGTERM stops accepting, finishes the deliveries in flight and closes the store', async (t) => {
  const dir = tempDir(t)
  const dvcqg = await new DvcqgSimulator().start()
  const onestop = await new OnestopSimulator().start()
  t.teardown(async () => { await dvcqg.stop(); await onestop.stop() })
  // DVCQG answers after 400 ms: the units are in flight when the signal comes.
  dvcqg.server.setFaults({ mode: 'slow', delayMs: 400, paths: [dvcqg.integrationPath] })
  const port = await freePort()
  const file = join(dir, 'lgsp.config.json')
  writeFileSync(file, JSON.stringify(testConfigDocument(dir, dvcqg.url, onestop.url, { http: { host: '127.0.0.1', port } })))
  const child = spawn(process.execPath, [join(projectRoot, 'dist', 'gateway', 'cli.js'), 'start', '--config', file], { stdio: 'ignore' })
  const base = `http://127.0.0.1:${port}`
  await waitFor('ready', async () => { try { return (await request(`${base}/readyz`)).statusCode === 200 } catch { return false } })
  const token = await tokenFrom(base)
  for (let i = 1; i <= 5; i++) {
    const res = await request(`${base}/v1/dossiers`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(hoso(i)) })
    t.equal(res.statusCode, 202)
    await res.body.dump()
  }
  await waitFor('deliveries in flight', () => (dvcqg.calls.DongBoHoSoMC ?? 0) >= 1)
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'clean exit')
  await t.rejects(request(`${base}/healthz`), 'no longer listening')
  t.equal(dvcqg.dossiers.size, 5, 'the units in flight were finished, not abandoned')
  // The store was closed cleanly: nothing is left claimed, so nothing needs re-checking after a restart.
  const store = new SqliteStore({ path: join(dir, 'lgsp.db'), synchronous: 'full' })
  await store.init()
  t.match(await store.queueStats(), [{ destination: 'dvcqg', pending: 0, inflight: 0, delivered: 5 }])
  await store.close()
})
