/**
 * Several gateway processes on one Redis, as behind a load balancer: real processes, a real
 * redis-server (AOF on, appendfsync always), real HTTP simulators of DVCQG and the one-stop.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { createClient } from 'redis'
import { DvcqgSimulator } from '../../adapters/dvcqg/simulator.js'
import { OnestopSimulator } from '../../adapters/onestop/simulator.js'
import { projectRoot } from '../../gateway/paths.js'
import { hoso, progress, tempDir, testConfigDocument, tokenFrom, waitFor } from '../helpers.js'
import { freePort } from '../../adapters/simulator-kit.js'
import { RedisServer } from '../redis-server.js'

const cli = join(projectRoot, 'dist', 'gateway', 'cli.js')

interface Fleet {
  configFile: string
  dvcqg: DvcqgSimulator
  redis: RedisServer
  bases: string[]
  children: Array<ChildProcess | undefined>
  start: (i: number) => Promise<void>
  kill: (i: number) => Promise<void>
  /** POST with a bearer token to instance i; the status code. */
  post: (i: number, path: string, body: unknown, headers?: Record<string, string>) => Promise<{ status: number, body: Record<string, unknown> }>
}

async function fleet (t: Test, count: number): Promise<Fleet> {
  const dir = tempDir(t, 'lgsp-fleet-')
  const redis = new RedisServer()
  await redis.start()
  const dvcqg = await new DvcqgSimulator().start()
  const onestop = await new OnestopSimulator().start()
  // Replies come 40 ms after DVCQG applied the call: at a kill, some units are applied but unacknowledged.
  dvcqg.server.setFaults({ mode: 'slow', delayMs: 40, paths: [dvcqg.integrationPath] })
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()))
  const bases = ports.map((p) => `http://127.0.0.1:${p}`)
  const children: Array<ChildProcess | undefined> = []
  const logFile = join(dir, 'gateways.log')
  const log = openSync(logFile, 'a')
  const configFile = join(dir, 'lgsp.config.json')
  const doc = testConfigDocument(dir, dvcqg.url, onestop.url)
  writeFileSync(configFile, JSON.stringify({
    ...doc,
    store: { kind: 'redis', redis: { url: redis.url, namespace: 'fleet', partitions: 8, leaseMs: 1500, claimTimeoutMs: 3000 } }
  }))
  const start = async (i: number): Promise<void> => {
    children[i] = spawn(process.execPath, [cli, 'start', '--config', configFile], {
      stdio: ['ignore', log, log],
      env: { ...process.env, LGSP_HTTP_PORT: String(ports[i]), LGSP_INSTANCE: `gw-${i}` }
    })
    // Up to three processes start at once: on two busy cores that can take well over 20 s.
    await waitFor(`gateway ${i} ready`, async () => {
      try {
        return (await request(`${bases[i]}/readyz`)).statusCode === 200
      } catch {
        return false
      }
    }, 120_000)
  }
  const kill = async (i: number): Promise<void> => {
    const child = children[i]
    if (child === undefined || child.exitCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGKILL')
    })
  }
  t.teardown(async () => {
    if (!t.passing()) t.comment(`gateway logs (tail):\n${readFileSync(logFile, 'utf8').split('\n').slice(-60).join('\n')}`)
    for (const c of children) c?.kill('SIGKILL')
    await dvcqg.stop()
    await onestop.stop()
    await redis.stop()
  })
  await Promise.all(Array.from({ length: count }, (_, i) => start(i)))
  // Tokens are signed with the shared auth.tokenSecret: one from any instance is good at all of them.
  const token = await tokenFrom(bases[0]!)
  const post: Fleet['post'] = async (i, path, body, headers = {}) => {
    const res = await request(`${bases[i]}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
    const text = await res.body.text()
    return { status: res.statusCode, body: text === '' ? {} : JSON.parse(text) as Record<string, unknown> }
  }
  return { configFile, dvcqg, redis, bases, children, start, kill, post }
}

/**
 * Clients post dossiers (every fifth with two progress steps) round-robin over the
 * instances, moving to the next instance when one does not answer, as a load balancer does.
 * `during` runs once `trigger` dossiers are accepted.
 */
async function load (f: Fleet, total: number, trigger: number, during: () => Promise<void>): Promise<{ accepted: Set<string>, withProgress: Set<string> }> {
  const accepted = new Set<string>()
  const withProgress = new Set<string>()
  let next = 1
  let fired = false
  let turn = 0
  const send = async (path: string, body: unknown): Promise<boolean> => {
    // Refused (503, connection refused) while an instance or Redis is down: try the next instance
    // until one takes it, for as long as a slow machine needs, not a fixed number of tries.
    const end = Date.now() + 120_000
    while (Date.now() < end) {
      const i = turn++ % f.bases.length
      try {
        const r = await f.post(i, path, body)
        if (r.status === 202) return true
        if (r.status !== 503) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`)
      } catch (err) {
        if (!(err instanceof Error) || !/ECONNREFUSED|ECONNRESET|other side closed|SocketError/.test(`${err.message} ${(err as { code?: string }).code ?? ''}`)) throw err
      }
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    return false
  }
  const client = async (): Promise<void> => {
    while (next <= total) {
      const n = next++
      const record = hoso(n)
      if (!await send('/v1/dossiers', record)) continue
      accepted.add(record.MaHoSo)
      if (n % 5 === 0 && await send(`/v1/dossiers/${record.MaHoSo}/progress`, [progress(record.MaHoSo, 10, 4), progress(record.MaHoSo, 20, 9, 'Xong')])) withProgress.add(record.MaHoSo)
      if (!fired && accepted.size >= trigger) {
        fired = true
        await during()
      }
    }
  }
  await Promise.all(Array.from({ length: 24 }, client))
  return { accepted, withProgress }
}

type QueueRow = { destination: string, pending: number, inflight: number, dead: number, delivered: number }

/** `lgsp queues --json` on the fleet's shared store. */
async function queuesOf (f: Fleet): Promise<QueueRow[]> {
  return JSON.parse(await new Promise<string>((resolve, reject) => execFile(process.execPath, [cli, 'queues', '--json', '--config', f.configFile], (err, out) => err === null ? resolve(out) : reject(err))))
}

async function allDelivered (t: Test, f: Fleet, accepted: Set<string>, withProgress: Set<string>): Promise<void> {
  const { dvcqg } = f
  await waitFor('every accepted dossier at DVCQG', () => [...accepted].every((id) => dvcqg.dossiers.has(id)) &&
    [...withProgress].every((id) => dvcqg.dossiers.get(id)!.progress.length === 2), 120_000)
  // And nothing is left behind at any destination: no unit pending, in flight (a killed instance's included) or dead.
  const queues = async (): Promise<QueueRow[]> => await queuesOf(f)
  await waitFor('every queue drained', async () => (await queues()).every((q) => q.pending + q.inflight + q.dead === 0), 60_000, 250)
  const dvcqgQueue = (await queues()).find((q) => q.destination === 'dvcqg')
  t.ok(dvcqgQueue !== undefined && dvcqgQueue.delivered >= accepted.size + withProgress.size, `every unit delivered, none left in flight (${dvcqgQueue?.delivered ?? 0} units)`)
  t.equal(dvcqg.repeats, 0, 'no record or progress entry applied twice')
  const twice = [...dvcqg.dossiers.values()].filter((d) => d.creates + d.updates !== 1)
  t.same(twice.map((d) => d.record.MaHoSo), [], 'each dossier synced exactly once')
  const outOfOrder = [...withProgress].filter((id) => JSON.stringify(dvcqg.arrivals.get(id)) !== JSON.stringify([progress(id, 10, 4).ThoiDiemXuLy, progress(id, 20, 9).ThoiDiemXuLy]))
  t.same(outOfOrder, [], `every dossier's progress arrived in order (${withProgress.size} dossiers with progress)`)
}

t.test('three gateway processes on one Redis; one killed with kill -9 mid-load: every accepted message delivered once, in order', async (t) => {
  const f = await fleet(t, 3)
  // The kill must find units in flight at gw-1: wait until the partitions are shared out, then kill it while it has some.
  const redis = createClient({ url: f.redis.url, RESP: 2 })
  await redis.connect()
  t.teardown(() => redis.close())
  const partitions = Array.from({ length: 8 }, (_, p) => p)
  const owners = async (): Promise<Set<string>> => new Set(await Promise.all(partitions.map(async (p) => String(await redis.sendCommand(['GET', `{fleet}:lease:dvcqg:${p}`])))))
  // Claimed by gw-1 and not completed: its pending entries in the partitions' consumer groups.
  const inFlightAtGw1 = async (): Promise<number> => (await Promise.all(partitions.map(async (p) => {
    const key = `{fleet}:q:dvcqg:${p}`
    if (Number(await redis.sendCommand(['EXISTS', key])) === 0) return 0
    return (await redis.sendCommand(['XPENDING', key, 'g', '-', '+', '1000', 'gw-1']) as unknown[]).length
  }))).reduce((a, b) => a + b, 0)
  let heldAtKill = 0
  const { accepted, withProgress } = await load(f, 1500, 300, async () => {
    await waitFor('every instance leases dvcqg partitions', async () => {
      const held = await owners()
      return ['gw-0', 'gw-1', 'gw-2'].every((i) => held.has(i))
    })
    await waitFor('gw-1 has units in flight', async () => await inFlightAtGw1() >= 2)
    await f.kill(1)
    // Counted after the kill: what the dead instance left claimed, for the others to reclaim.
    heldAtKill = await inFlightAtGw1()
  })
  t.ok(heldAtKill > 0, `gw-1 had ${heldAtKill} units in flight when it was killed`)
  t.equal(f.children[1]!.signalCode, 'SIGKILL', 'instance gw-1 was killed under load')
  t.ok(accepted.size >= 1500 * 0.97, `${accepted.size} of 1500 accepted around the kill`)
  await allDelivered(t, f, accepted, withProgress)
  t.ok((f.dvcqg.calls.TraCuuHoSo ?? 0) > 0, `units gw-1 held at the kill were reclaimed by the others and checked with TraCuuHoSo first (${f.dvcqg.calls.TraCuuHoSo ?? 0})`)
  // Each instance kept its own message-log chain, the killed one's included.
  const verify = spawnSync(process.execPath, [cli, 'log', 'verify', '--json', '--config', f.configFile], { encoding: 'utf8' })
  const report = JSON.parse(verify.stdout) as { ok: boolean, chains: Record<string, { ok: boolean, entries: number }> }
  t.equal(verify.status, 0, 'lgsp log verify: every chain verifies')
  t.same(Object.keys(report.chains).sort(), ['gw-0', 'gw-1', 'gw-2'])
})

t.test('Redis killed (kill -9) and restarted mid-load, AOF on: nothing acknowledged is lost', async (t) => {
  const f = await fleet(t, 2)
  let down = 0
  const { accepted, withProgress } = await load(f, 1200, 400, async () => {
    await f.redis.kill()
    down = Date.now()
    // Not ready while Redis is away.
    await waitFor('not ready without Redis', async () => (await request(`${f.bases[0]}/readyz`)).statusCode === 503)
    t.pass('not ready without Redis')
    await f.redis.start()
    down = Date.now() - down
  })
  t.ok(down > 0, `Redis was down ${down} ms`)
  await waitFor('both instances ready again', async () => (await Promise.all(f.bases.map(async (b) => (await request(`${b}/readyz`)).statusCode))).every((s) => s === 200), 120_000)
  await allDelivered(t, f, accepted, withProgress)
})

t.test('the same Idempotency-Key sent to two instances at once gets one delivery', async (t) => {
  const f = await fleet(t, 2)
  const ids: string[] = []
  for (let n = 5001; n <= 5100; n++) {
    const record = hoso(n)
    ids.push(record.MaHoSo)
    const headers = { 'idempotency-key': `same-${n}` }
    const [a, b] = await Promise.all([f.post(0, '/v1/dossiers', record, headers), f.post(1, '/v1/dossiers', record, headers)])
    if (a.status !== 202 || b.status !== 202 || a.body.messageId !== b.body.messageId) {
      t.fail(`${record.MaHoSo}: ${a.status} ${String(a.body.messageId)} / ${b.status} ${String(b.body.messageId)}`)
    }
  }
  t.pass('each pair got two 202s with one message id')
  await waitFor('all at DVCQG', () => ids.every((id) => f.dvcqg.dossiers.has(id)))
  // A second unit for a key would still be queued or in flight: once every queue is drained it would have arrived.
  await waitFor('every queue drained', async () => (await queuesOf(f)).every((q) => q.pending + q.inflight === 0), 60_000, 250)
  t.same([...f.dvcqg.dossiers.values()].filter((d) => d.creates + d.updates !== 1).map((d) => d.record.MaHoSo), [], 'one delivery per key')
  t.equal(f.dvcqg.repeats, 0)
})
