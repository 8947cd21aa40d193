/**
 * `npm run bench`: dossier intake against a bare fastify echo of the same body size, in one
 * run, each server in its own process, autocannon in this one. Prints both and the ratio.
 *
 *   BENCH_DURATION  seconds per measurement (10)     BENCH_CONNECTIONS (50)
 *
 * Intake here is the whole accept path: bearer token check, JSON Schema validation, the
 * state machine, and the transaction (message log, idempotency, ledger, outbox) committed
 * with synchronous=FULL before the 202. Delivery workers are off in this scenario so the
 * figure is the intake's own; every request carries a new dossier, so nothing is deduplicated.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon, { type Result } from 'autocannon'
import { request } from 'undici'
import { projectRoot } from '../gateway/paths.js'
import { freePort } from '../adapters/simulator-kit.js'
import { benchIndicators } from './indicators.js'

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

interface Figures { name: string, rps: number, p50: number, p99: number, non2xx: number, errors: number, total: number }

async function measure (name: string, opts: autocannon.Options): Promise<Figures> {
  // A short warm-up first (JIT, connection pools, SQLite page cache).
  await autocannon({ ...opts, duration: 2 })
  const r: Result = await autocannon({ ...opts, duration, connections })
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, total: r.requests.total }
}

async function main (): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'lgsp-bench-'))
  const results: Figures[] = []
  try {
    // Baseline: bare fastify echo.
    const echo = startProcess([join(dist, 'bench', 'echo-server.js')])
    const echoPort = await new Promise<number>((resolve) => echo.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))))
    const body = dossier(0)
    results.push(await measure('bare fastify echo', { url: `http://127.0.0.1:${echoPort}/echo`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections }))
    await stop(echo)

    // Intake: the gateway on its embedded store, delivery workers off; then again without the indicator facts.
    results.push(await intake(work, 'dossier intake', true))
    results.push(await intake(work, 'intake, no facts', false))
    mkdirSync(join(projectRoot, 'bench', 'results'), { recursive: true })
    writeFileSync(join(projectRoot, 'bench', 'results', `intake-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(results, null, 2))
  } finally {
    rmSync(work, { recursive: true, force: true })
  }

  const [echo, withFacts, withoutFacts] = results as [Figures, Figures, Figures]
  const line = (f: Figures): string => `${f.name.padEnd(20)} ${f.rps.toFixed(0).padStart(8)} req/s   p50 ${String(f.p50).padStart(4)} ms   p99 ${String(f.p99).padStart(4)} ms   non-2xx ${f.non2xx}   errors ${f.errors}`
  process.stdout.write(`\n${connections} connections, ${duration} s each, body ${Buffer.byteLength(dossier(0))} bytes\n${line(echo)}\n${line(withFacts)}\n${line(withoutFacts)}\n`)
  process.stdout.write(`intake / echo throughput: ${(withFacts.rps / echo.rps * 100).toFixed(1)} %   (goal ≥ 40 %, p99 < 50 ms)\n`)
  process.stdout.write(`keeping the indicator facts current costs ${((1 - withFacts.rps / withoutFacts.rps) * 100).toFixed(1)} % of intake throughput (goal ≤ 10 %)\n`)
  if (process.env.BENCH_SKIP_INDICATORS === undefined) process.stdout.write(`\n${await benchIndicators()}\n`)
}

/** One intake measurement: a gateway process on a fresh store, authenticated, a new dossier per request. */
async function intake (work: string, name: string, indicators: boolean): Promise<Figures> {
  const port = await freePort()
  const configFile = join(work, 'lgsp.config.json')
  writeFileSync(configFile, JSON.stringify({
    profile: 'dev',
    http: { host: '127.0.0.1', port },
    store: { path: join(work, `data-${name.replace(/\W+/g, '-')}`, 'lgsp.db'), synchronous: 'full' },
    indicators: { enabled: indicators },
    auth: { tokenSecret: 'bench-token-secret-0123456789abcdef-xyz' },
    members: [{ id: 'onestop-bench', name: 'bench', clientSecret: secret, messageKinds: ['dossier'], destinations: ['dvcqg'] }],
    destinations: { dvcqg: { adapter: 'dvcqg', url: 'http://127.0.0.1:9', username: 'u', password: 'p', madonvi: 'x' } },
    delivery: { enabled: false }
  }))
  const gateway = spawn(process.execPath, [join(dist, 'gateway', 'cli.js'), 'start', '--config', configFile], { stdio: ['ignore', 'ignore', 'inherit'] })
  const base = `http://127.0.0.1:${port}`
  await waitReady(`${base}/healthz`)
  const tok = await request(`${base}/token`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`onestop-bench:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' })
  const { access_token: token } = await tok.body.json() as { access_token: string }
  let n = 0
  const figures = await measure(name, {
    url: `${base}/v1/dossiers`,
    connections,
    requests: [{
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      setupRequest: (req) => ({ ...req, body: dossier(++n) })
    }]
  })
  await stop(gateway)
  return figures
}

await main()
