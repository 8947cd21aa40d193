import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { DvcqgSimulator } from '../adapters/dvcqg/simulator.js'
import { OnestopSimulator } from '../adapters/onestop/simulator.js'
import { freePort } from '../adapters/simulator-kit.js'
import { projectRoot } from '../gateway/paths.js'
import { SqliteStore } from '../gateway/store/sqlite.js'
import { resolveConfig } from '../gateway/config.js'
import { startGateway } from '../gateway/server.js'
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

t.test('a gateway that cannot bind its port exits 1 with one sentence and never delivers', async (t) => {
  const s = await startStack(t, { listen: true })
  const port = Number(new URL(s.gateway.url).port)
  const dir = tempDir(t)
  const file = join(dir, 'lgsp.config.json')
  writeFileSync(file, JSON.stringify(testConfigDocument(dir, s.dvcqg.url, s.onestop.url, { http: { host: '127.0.0.1', port } })))
  const calls = s.dvcqg.calls.DongBoHoSoMC ?? 0
  const child = spawn(process.execPath, [join(projectRoot, 'dist', 'gateway', 'cli.js'), 'start', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  t.equal(code, 1, 'exits non-zero instead of running on without a port')
  t.match(stderr, new RegExp(`^lgsp: LGSP_ERR_STARTUP_PORT: Port ${port} on 127\\.0\\.0\\.1 is already in use: .*http\\.port \\(LGSP_HTTP_PORT\\).*\\n$`))
  t.equal(stderr.trim().split('\n').length, 1, 'one sentence, no stack')
  t.equal(s.dvcqg.calls.DongBoHoSoMC ?? 0, calls, 'no delivery from the failed process')
  // Its lock and store were closed: a gateway on a free port starts on the same store.
  const again = await startGateway(resolveConfig(testConfigDocument(dir, s.dvcqg.url, s.onestop.url), {}), { listen: false, logStream: { write: () => {} } })
  await again.close()
})

t.test('two gateways can never run on one SQLite file: the second refuses, the store lock says why', async (t) => {
  const s = await startStack(t)
  await t.rejects(startGateway(s.config, { listen: false, logStream: { write: () => {} } }), {
    code: 'LGSP_ERR_STARTUP_LOCKED',
    message: /Another gateway already runs on the store .*lgsp\.db \(pid \d+ on .*\): stop it, or give this one its own store\.path/
  })
  // The operator commands still open the store beside the running gateway.
  const reader = new SqliteStore({ path: s.config.store.path, synchronous: 'full' })
  await reader.init()
  t.ok(Array.isArray(await reader.queueStats()))
  await reader.close()
})

t.test('start-up prerequisites come out in one message before anything is opened', async (t) => {
  const dir = tempDir(t)
  const db = join(dir, 'lgsp.db')
  writeFileSync(db, 'not sqlite\n')
  writeFileSync(join(dir, 'pki'), '')
  const config = resolveConfig(testConfigDocument(dir, 'http://127.0.0.1:1', 'http://127.0.0.1:2', { pki: { dir: join(dir, 'pki', 'x') } }), {})
  await t.rejects(startGateway(config, { listen: false, logStream: { write: () => {} } }), {
    code: 'LGSP_ERR_STARTUP_PREREQUISITES',
    message: /store\.path: .*lgsp\.db is not a SQLite database: .*\n {2}pki\.dir: .*pki is a file, not a folder/
  })
})
