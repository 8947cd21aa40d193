/**
 * `npm run bench`: dossier intake against a bare fastify echo of the same body size, in one
 * run, each server in its own process, autocannon in this one. Prints every figure and the
 * ratios: intake / echo, the indicator facts' cost, signed / unsigned intake.
 *
 *   BENCH_DURATION  seconds per measurement (10)     BENCH_CONNECTIONS (50)
 *   BENCH_SKIP_INDICATORS  skip the 1M-dossier indicator queries
 *   BENCH_ONLY=signed      only the echo, unsigned and signed intake
 *   BENCH_ONLY=e2e         only the echo and the end-to-end scenario (delivery on, see endToEnd)
 *   BENCH_DRAIN_MAX        seconds the end-to-end scenario waits for the backlog to drain after the load (60)
 *   BENCH_NO_PEER          skip the peer (bench/peer.ts: fastify + the same ajv schemas + BullMQ on Redis, AOF always, + a worker process)
 *   BENCH_BASELINE         the dist/ folder of another build: its gateway runs the end-to-end scenario too, in the same run (before/after)
 *   BENCH_DELIVERY_CONCURRENCY  override the destination's delivery concurrency (experiments)
 *   BENCH_POOL_THRESHOLD, BENCH_POOL_THREADS   override signatures.poolThresholdBytes / poolThreads (experiments)
 *   BENCH_NO_RECEIPTS      signed intake without receipts (what the member signature check costs alone)
 *   BENCH_NODE_ARGS        extra node flags for the gateway processes (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof)
 *   BENCH_ONLY=redis       only intake on the embedded store, on Redis with 1 gateway process and with 2
 *                          (a redis-server started here, AOF with appendfsync always, as durable as synchronous=FULL),
 *                          then the indicator queries on Redis over BENCH_REDIS_LEDGER dossiers (200,000)
 *
 * Intake here is the whole accept path: bearer token check, JSON Schema validation, the
 * state machine, and the transaction (message log, idempotency, ledger, outbox) committed
 * with synchronous=FULL before the 202. Delivery workers are off in this scenario so the
 * figure is the intake's own; every request carries a new dossier, so nothing is deduplicated.
 *
 * Unsigned intake: no member signature, no receipt. Signed intake: the member must sign
 * (ES256, certificate chain in x5c, checked against the trust store) and every 202 carries
 * a receipt signed with the gateway's RSA-2048 key (batched under load). The bodies and
 * their signatures are made before the run, so the load generator does no crypto.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon, { type Result } from 'autocannon'
import { request } from 'undici'
import { projectRoot } from '../gateway/paths.js'
import { Pki } from '../certs/pki.js'
import { signDetached } from '../gateway/crypto/jws.js'
import { freePort } from '../adapters/simulator-kit.js'
import { benchIndicators, benchRedisIndicators } from './indicators.js'

const duration = Number(process.env.BENCH_DURATION ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
const dist = join(projectRoot, 'dist')

const secret = 'bench-onestop-secret'

/** A received dossier in DVCQG fields, about 900 bytes. */
function dossier (n: number): string {
  return JSON.stringify({
    MaHoSo: `000.00.01.H56-240201-${String(n).padStart(7, '0')}`,
    MaTTHC: '1.003560.000.00.00.H56',
    TenTTHC: 'Cấp đổi giấy phép lái xe',
    MaLinhVuc: 'G13-GT01',
    TenLinhVuc: 'Đường bộ',
    KenhThucHien: '2',
    SoGiayToChuHoSo: '079203001234',
    ChuHoSo: 'Nguyễn Thị Bình',
    LoaiDoiTuong: '1',
    SoDienThoai: '0912345678',
    Email: 'binh.nguyen@example.vn',
    TrichYeuHoSo: 'Đổi giấy phép lái xe hạng B2 do hết hạn sử dụng',
    NgayTiepNhan: '20240201080000',
    NgayHenTra: '20240205170000',
    TrangThaiHoSo: '2',
    DonViXuLy: 'Sở Giao thông vận tải',
    TaiLieuNop: [{ TepDinhKemId: 'f1', TenTepDinhKem: 'Đơn đề nghị.pdf', DuocSoHoa: '1' }, { TepDinhKemId: 'f2', TenTepDinhKem: 'Giấy khám sức khỏe.pdf', DuocSoHoa: '0' }],
    DanhSachLePhi: [{ TenPhiLePhi: 'Lệ phí cấp đổi', Gia: 135000 }]
  })
}

function startProcess (args: string[]): ChildProcess {
  return spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
}

async function waitReady (url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await request(url)).statusCode < 500) return
    } catch { /* not yet */ }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`not ready: ${url}`)
}

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

interface Figures {
  name: string, rps: number, p50: number, p99: number, non2xx: number, errors: number, total: number
  /** Cores used during the measurement (warm-up included): the gateway processes together, and the redis-server. */
  cores?: { gateways: number, redis?: number }
}

/** One measurement as printed, with the cores its processes used when they were measured. */
function line (f: Figures): string {
  const cores = f.cores === undefined ? '' : `   cores: gateways ${f.cores.gateways.toFixed(2)}${f.cores.redis === undefined ? '' : `, redis ${f.cores.redis.toFixed(2)}`}`
  return `${f.name.padEnd(20)} ${f.rps.toFixed(0).padStart(8)} req/s   p50 ${String(f.p50).padStart(4)} ms   p99 ${String(f.p99).padStart(4)} ms   non-2xx ${f.non2xx}   errors ${f.errors}${cores}`
}

/** CPU seconds a process has used (Linux /proc: utime + stime). */
function cpuSeconds (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

async function measure (name: string, opts: autocannon.Options): Promise<Figures> {
  // A short warm-up first (JIT, connection pools, SQLite page cache).
  await autocannon({ ...opts, duration: 2 })
  const r: Result = await autocannon({ ...opts, duration, connections })
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, total: r.requests.total }
}

/** Several gateway processes behind one address each: the connections split among them, figures summed (latency: the worst). */
async function measureAll (name: string, targets: autocannon.Options[]): Promise<Figures> {
  const each = Math.ceil(connections / targets.length)
  await Promise.all(targets.map((o) => autocannon({ ...o, connections: each, duration: 2 })))
  const rs: Result[] = await Promise.all(targets.map((o) => autocannon({ ...o, connections: each, duration })))
  const sum = (f: (r: Result) => number): number => rs.reduce((a, r) => a + f(r), 0)
  return { name, rps: sum((r) => r.requests.average), p50: Math.max(...rs.map((r) => r.latency.p50)), p99: Math.max(...rs.map((r) => r.latency.p99)), non2xx: sum((r) => r.non2xx), errors: sum((r) => r.errors), total: sum((r) => r.requests.total) }
}

async function main (): Promise<void> {
  if (process.env.BENCH_ONLY === 'redis') {
    await benchRedis()
    return
  }
  const e2eOnly = process.env.BENCH_ONLY === 'e2e'
  let e2eReport = ''
  const work = mkdtempSync(join(tmpdir(), 'lgsp-bench-'))
  const results: Figures[] = []
  try {
    // Baseline: bare fastify echo.
    const echo = startProcess([join(dist, 'bench', 'echo-server.js')])
    const echoPort = await new Promise<number>((resolve) => echo.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))))
    const body = dossier(0)
    results.push(await measure('bare fastify echo', { url: `http://127.0.0.1:${echoPort}/echo`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections }))
    await stop(echo)

    const pki = new Pki(join(work, 'pki'))
    pki.init([{ id: 'onestop-bench', kind: 'ec' }])
    // End to end: delivery on, to an upstream on loopback; the same run's echo is the ceiling.
    if (e2eOnly || process.env.BENCH_ONLY === undefined) {
      // Another build of the gateway (BENCH_BASELINE=/path/to/its/dist) in the same run, for before/after ratios.
      const baseline = process.env.BENCH_BASELINE === undefined ? undefined : await endToEnd(work, pki, 'end to end, baseline', process.env.BENCH_BASELINE)
      const e = await endToEnd(work, pki)
      const peer = process.env.BENCH_NO_PEER === undefined ? await peerEndToEnd(work, pki) : undefined
      mkdirSync(join(projectRoot, 'bench', 'results'), { recursive: true })
      writeFileSync(join(projectRoot, 'bench', 'results', `e2e-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ echo: results[0], e2e: e, baseline, peer }, null, 2))
      e2eReport = `\n${line(results[0]!)}\n${baseline === undefined ? '' : `${e2eLines(baseline, results[0]!)}\n`}${e2eLines(e, results[0]!)}\n`
      if (peer !== undefined) e2eReport += `${e2eLines(peer, results[0]!)}\nlgsp / peer: delivered under load ${(e.delivered / peer.delivered * 100).toFixed(1)} % (goal ≥ 150 %), accepted ${(e.accepted / peer.accepted * 100).toFixed(1)} %, drain ${(e.drain / peer.drain * 100).toFixed(1)} %, CPU per message ${(e.cpuMsPerMessage / peer.cpuMsPerMessage).toFixed(2)}x\n`
      if (baseline !== undefined) e2eReport += `this build / baseline: delivered under load ${(e.delivered / baseline.delivered).toFixed(2)}x, accepted ${(e.accepted / baseline.accepted).toFixed(2)}x, drain ${(e.drain / baseline.drain).toFixed(2)}x, gateway CPU per message ${(e.cpuMsPerMessage / baseline.cpuMsPerMessage).toFixed(2)}x\n`
      if (e2eOnly) {
        process.stdout.write(e2eReport)
        return
      }
    }
    // Intake: the gateway on its embedded store, delivery workers off; then again without the indicator facts; then signed.
    results.push(await intake(work, pki, 'dossier intake', { indicators: true, signed: false }))
    if (process.env.BENCH_ONLY !== 'signed') results.push(await intake(work, pki, 'intake, no facts', { indicators: false, signed: false }))
    results.push(await intake(work, pki, 'signed intake', { indicators: true, signed: true }))
    mkdirSync(join(projectRoot, 'bench', 'results'), { recursive: true })
    writeFileSync(join(projectRoot, 'bench', 'results', `intake-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(results, null, 2))
  } finally {
    rmSync(work, { recursive: true, force: true })
  }

  if (process.env.BENCH_ONLY === 'signed') results.splice(2, 0, results[1]!)
  const [echo, withFacts, withoutFacts, signed] = results as [Figures, Figures, Figures, Figures]
  process.stdout.write(`\n${connections} connections, ${duration} s each, body ${Buffer.byteLength(dossier(0))} bytes\n${line(echo)}\n${line(withFacts)}\n${line(withoutFacts)}\n${line(signed)}\n`)
  process.stdout.write(`intake / echo throughput: ${(withFacts.rps / echo.rps * 100).toFixed(1)} %   (goal ≥ 40 %, p99 < 50 ms)\n`)
  process.stdout.write(`keeping the indicator facts current costs ${((1 - withFacts.rps / withoutFacts.rps) * 100).toFixed(1)} % of intake throughput (goal ≤ 10 %)\n`)
  process.stdout.write(`signed / unsigned intake throughput: ${(signed.rps / withFacts.rps * 100).toFixed(1)} %   (goal ≥ 70 %; signed p99 ${signed.p99} ms)\n`)
  if (e2eReport !== '') process.stdout.write(e2eReport)
  if (process.env.BENCH_SKIP_INDICATORS === undefined) process.stdout.write(`\n${await benchIndicators()}\n`)
}

/** Bodies for the whole run, signed beforehand when the member must sign. */
function bodies (pki: Pki, signed: boolean): Array<{ body: string, signature?: string }> {
  const count = Math.ceil((duration + 2) * 12_000)
  const id = signed ? pki.member('onestop-bench') : undefined
  const x5c = id?.chain.map((c) => c.raw.toString('base64'))
  return Array.from({ length: count }, (_, i) => {
    const body = dossier(i + 1)
    return id === undefined ? { body } : { body, signature: signDetached(body, id.key, { x5c: x5c! }) }
  })
}

/**
 * The embedded store against Redis with one and with two gateway processes, in one run: each
 * on a fresh store, facts on, unsigned, delivery off.
 */
async function benchRedis (): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'lgsp-bench-'))
  const redisPort = await freePort()
  const redis = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(redisPort), '--dir', work, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore' })
  const results: Figures[] = []
  let indicators = ''
  try {
    await new Promise((resolve) => setTimeout(resolve, 300))
    const pki = new Pki(join(work, 'pki'))
    pki.init([{ id: 'onestop-bench', kind: 'ec' }])
    const url = `redis://127.0.0.1:${redisPort}`
    results.push(await intake(work, pki, 'embedded (SQLite)', { indicators: true, signed: false }))
    results.push(await intake(work, pki, 'Redis, 1 process', { indicators: true, signed: false, redis: { url, namespace: 'one', pid: redis.pid! } }))
    results.push(await intake(work, pki, 'Redis, 2 processes', { indicators: true, signed: false, redis: { url, namespace: 'two', pid: redis.pid! }, processes: 2 }))
    if (process.env.BENCH_SKIP_INDICATORS === undefined) indicators = await benchRedisIndicators(url, Number(process.env.BENCH_REDIS_LEDGER ?? 200_000))
  } finally {
    redis.kill('SIGKILL')
    rmSync(work, { recursive: true, force: true })
  }
  const [embedded, one, two] = results as [Figures, Figures, Figures]
  process.stdout.write(`\n${connections} connections, ${duration} s each, on ${availableParallelism()} cores shared with autocannon\n${line(embedded)}\n${line(one)}\n${line(two)}\n`)
  process.stdout.write(`Redis 1 process / embedded: ${(one.rps / embedded.rps * 100).toFixed(1)} %   Redis 2 processes / 1 process: ${(two.rps / one.rps * 100).toFixed(1)} %\n`)
  if (indicators !== '') process.stdout.write(`\n${indicators}\n`)
}

/** A gateway's config file for one measurement; delivery on only when an upstream is given. */
function writeConfig (work: string, pki: Pki, name: string, port: number, o: { indicators: boolean, signed: boolean, redis?: { url: string, namespace: string }, upstream?: string }): string {
  const configFile = join(work, 'lgsp.config.json')
  const concurrency = process.env.BENCH_DELIVERY_CONCURRENCY
  writeFileSync(configFile, JSON.stringify({
    profile: 'dev',
    http: { host: '127.0.0.1', port },
    store: o.redis === undefined
      ? { path: join(work, `data-${name.replace(/\W+/g, '-')}`, 'lgsp.db'), synchronous: 'full' }
      : { kind: 'redis', redis: { url: o.redis.url, namespace: o.redis.namespace } },
    indicators: { enabled: o.indicators },
    pki: { dir: pki.dir },
    signatures: {
      receipts: o.signed && process.env.BENCH_NO_RECEIPTS === undefined,
      ...(process.env.BENCH_POOL_THRESHOLD === undefined ? {} : { poolThresholdBytes: Number(process.env.BENCH_POOL_THRESHOLD) }),
      ...(process.env.BENCH_POOL_THREADS === undefined ? {} : { poolThreads: Number(process.env.BENCH_POOL_THREADS) })
    },
    auth: { tokenSecret: 'bench-token-secret-0123456789abcdef-xyz' },
    members: [{ id: 'onestop-bench', name: 'bench', clientSecret: secret, messageKinds: ['dossier'], destinations: ['dvcqg'], signature: { required: o.signed } }],
    destinations: { dvcqg: { adapter: 'dvcqg', url: o.upstream ?? 'http://127.0.0.1:9', username: 'u', password: 'p', madonvi: 'x', ...(concurrency === undefined ? {} : { concurrency: Number(concurrency) }) } },
    delivery: { enabled: o.upstream !== undefined }
  }))
  return configFile
}

/** Starts gateway processes on a config file, one per port, and waits until they answer. */
async function startGateways (configFile: string, ports: number[], build = dist): Promise<{ gateways: ChildProcess[], bases: string[] }> {
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')
  const gateways = ports.map((port) => spawn(process.execPath, [...nodeArgs, join(build, 'gateway', 'cli.js'), 'start', '--config', configFile], {
    stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, LGSP_HTTP_PORT: String(port) }
  }))
  const bases = ports.map((port) => `http://127.0.0.1:${port}`)
  for (const base of bases) await waitReady(`${base}/healthz`)
  return { gateways, bases }
}

/** The bench member's bearer token. */
async function token (base: string): Promise<string> {
  const tok = await request(`${base}/token`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`onestop-bench:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' })
  const { access_token: t } = await tok.body.json() as { access_token: string }
  return t
}

/** One intake measurement: gateway processes on a fresh store, authenticated, a new dossier per request. */
async function intake (work: string, pki: Pki, name: string, o: { indicators: boolean, signed: boolean, redis?: { url: string, namespace: string, pid: number }, processes?: number }): Promise<Figures> {
  const ports = await Promise.all(Array.from({ length: o.processes ?? 1 }, () => freePort()))
  const prepared = bodies(pki, o.signed)
  const configFile = writeConfig(work, pki, name, ports[0]!, o)
  const { gateways, bases } = await startGateways(configFile, ports)
  const bearer = await token(bases[0]!)
  let n = 0
  const targets = bases.map((base): autocannon.Options => ({
    url: `${base}/v1/dossiers`,
    connections,
    requests: [{
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      setupRequest: (req) => {
        const p = prepared[n++ % prepared.length]!
        return { ...req, body: p.body, headers: p.signature === undefined ? req.headers : { ...req.headers, 'x-lgsp-signature': p.signature } }
      }
    }]
  }))
  const pids = [...gateways.map((g) => g.pid!), ...(o.redis === undefined ? [] : [o.redis.pid])]
  const before = pids.map(cpuSeconds)
  const started = Date.now()
  const figures = targets.length === 1 ? await measure(name, targets[0]!) : await measureAll(name, targets)
  const used = pids.map((pid, i) => (cpuSeconds(pid) - before[i]!) / ((Date.now() - started) / 1000))
  figures.cores = { gateways: used.slice(0, gateways.length).reduce((a, b) => a + b, 0), ...(o.redis === undefined ? {} : { redis: used.at(-1)! }) }
  for (const g of gateways) await stop(g)
  return figures
}

/** The end-to-end scenario's figures (rates per second, over the load window unless named otherwise). */
interface EndToEnd {
  name: string
  /** 2xx answers per second under load. */
  accepted: number
  /** Deliveries counted at the upstream per second, same window. */
  delivered: number
  /** Accepted but not yet delivered: its growth per second under load. */
  backlogGrowth: number
  /** Deliveries per second once the load stopped, until the backlog was empty (or the drain limit). */
  drain: number
  /** Backlog left when the drain limit was reached (0: everything accepted was delivered). */
  left: number
  /** Gateway CPU ms per delivered message, accept and delivery together (from start to drained). */
  cpuMsPerMessage: number
  /** Gateway CPU ms per message delivered during the drain (delivery alone). */
  cpuMsPerDrained: number
  p99: number, non2xx: number, errors: number
  cores: { gateway: number, upstream: number }
}

const drainLimitMs = Number(process.env.BENCH_DRAIN_MAX ?? 60) * 1000

/** What the upstream counted. */
async function countAt (upstream: string): Promise<number> {
  const r = await request(`${upstream}/count`)
  return ((await r.body.json()) as { delivered: number }).delivered
}

/**
 * End to end: the gateway on SQLite with delivery on to a bare DVCQG-shaped upstream
 * (bench/upstream.ts, its own process), unsigned intake under load, then no load until the
 * upstream has counted every accepted message (or the drain limit). Deliveries are counted
 * where they arrive.
 */
async function endToEnd (work: string, pki: Pki, name = 'end to end, SQLite', build = dist): Promise<EndToEnd> {
  return withUpstream(async (upstream, upPid) => {
    const port = await freePort()
    const configFile = writeConfig(work, pki, name, port, { indicators: true, signed: false, upstream })
    const { gateways: [gateway], bases: [base] } = await startGateways(configFile, [port], build)
    try {
      return await drive(name, `${base}/v1/dossiers`, await token(base!), bodies(pki, false), [gateway!.pid!], upstream, upPid)
    } finally {
      await stop(gateway!)
    }
  })
}

/** A fresh bare upstream (bench/upstream.ts) around one scenario. */
async function withUpstream<T> (run: (upstream: string, pid: number) => Promise<T>): Promise<T> {
  const up = startProcess([join(dist, 'bench', 'upstream.js')])
  const upPort = await new Promise<number>((resolve) => up.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))))
  try {
    return await run(`http://127.0.0.1:${upPort}`, up.pid!)
  } finally {
    await stop(up)
  }
}

/**
 * The peer (bench/peer.ts) end to end: its fastify intake and its BullMQ worker process on a
 * redis-server started here with AOF and appendfsync always.
 */
async function peerEndToEnd (work: string, pki: Pki): Promise<EndToEnd> {
  const redisPort = await freePort()
  const dir = join(work, 'peer-redis')
  mkdirSync(dir, { recursive: true })
  const redis = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(redisPort), '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore' })
  const redisUrl = `redis://127.0.0.1:${redisPort}`
  try {
    for (let i = 0; i < 100; i++) {
      if (await request(`http://127.0.0.1:${redisPort}`).then(() => true, (err: { code?: string }) => err.code !== 'ECONNREFUSED')) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return await withUpstream(async (upstream, upPid) => {
      const worker = startProcess([join(dist, 'bench', 'peer.js'), 'worker', redisUrl, upstream])
      const server = startProcess([join(dist, 'bench', 'peer.js'), 'server', redisUrl])
      try {
        await new Promise((resolve) => worker.stdout!.once('data', resolve))
        const port = await new Promise<number>((resolve) => server.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))))
        return await drive('peer (BullMQ)', `http://127.0.0.1:${port}/v1/dossiers`, 'none', bodies(pki, false), [server.pid!, worker.pid!, redis.pid!], upstream, upPid)
      } finally {
        await stop(server)
        await stop(worker)
      }
    })
  } finally {
    redis.kill('SIGKILL')
  }
}

/**
 * Load on one intake URL, then none until the upstream counted every accepted message (or the
 * drain limit); `pids` are the processes whose CPU counts as the system's (the upstream's apart).
 */
async function drive (name: string, url: string, bearer: string, prepared: Array<{ body: string }>, pids: number[], upstream: string, upPid: number): Promise<EndToEnd> {
  {
    let n = 0
    const target: autocannon.Options = {
      url,
      connections,
      requests: [{ method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, setupRequest: (req) => ({ ...req, body: prepared[n++ % prepared.length]!.body }) }]
    }
    const cpu = (): number => pids.reduce((a, pid) => a + cpuSeconds(pid), 0)
    const cpuStart = cpu()
    const upCpuStart = cpuSeconds(upPid)
    const started = Date.now()
    const warm = await autocannon({ ...target, duration: 2 })
    const t0 = Date.now()
    const c0 = await countAt(upstream)
    const r = await autocannon({ ...target, duration })
    const t1 = Date.now()
    const c1 = await countAt(upstream)
    const cpu1 = cpu()
    const accepted = warm['2xx'] + r['2xx']
    // The drain: no load, until the upstream counted every accepted message.
    let c2 = c1
    while (c2 < accepted && Date.now() - t1 < drainLimitMs) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      c2 = await countAt(upstream)
    }
    const t2 = Date.now()
    const cpu2 = cpu()
    const load = (t1 - t0) / 1000
    return {
      name,
      accepted: r['2xx'] / load,
      delivered: (c1 - c0) / load,
      backlogGrowth: ((accepted - c1) - (warm['2xx'] - c0)) / load,
      drain: t2 > t1 ? (c2 - c1) / ((t2 - t1) / 1000) : 0,
      left: accepted - c2,
      cpuMsPerMessage: (cpu2 - cpuStart) * 1000 / Math.max(1, c2),
      cpuMsPerDrained: (cpu2 - cpu1) * 1000 / Math.max(1, c2 - c1),
      p99: r.latency.p99,
      non2xx: r.non2xx + warm.non2xx,
      errors: r.errors + warm.errors,
      cores: { gateway: (cpu2 - cpuStart) / ((t2 - started) / 1000), upstream: (cpuSeconds(upPid) - upCpuStart) / ((t2 - started) / 1000) }
    }
  }
}

/** The end-to-end figures as printed, with their ratios to the echo's requests per second. */
function e2eLines (e: EndToEnd, echo: Figures): string {
  return [
    `${e.name.padEnd(20)} accepted ${e.accepted.toFixed(0)}/s   delivered under load ${e.delivered.toFixed(0)}/s   backlog ${e.backlogGrowth >= 0 ? '+' : ''}${e.backlogGrowth.toFixed(0)}/s   drain ${e.drain.toFixed(0)}/s${e.left > 0 ? ` (${e.left} left after ${drainLimitMs / 1000} s)` : ''}   p99 ${e.p99} ms   non-2xx ${e.non2xx}   errors ${e.errors}`,
    `${''.padEnd(20)} CPU ${e.cpuMsPerMessage.toFixed(2)} ms per message (accept + deliver), ${e.cpuMsPerDrained.toFixed(2)} ms per message delivered in the drain   cores: ${e.cores.gateway.toFixed(2)} (upstream ${e.cores.upstream.toFixed(2)})`,
    `delivered / echo: ${(e.delivered / echo.rps * 100).toFixed(1)} %   (goal ≥ 20 %)   accepted / echo: ${(e.accepted / echo.rps * 100).toFixed(1)} %   delivered / accepted: ${(e.delivered / e.accepted * 100).toFixed(1)} %`
  ].join('\n')
}

await main()
