/**
 * Test helpers: a gateway on a real SQLite file in a temporary folder, real simulators on
 * loopback port 0, log lines captured from a sink, and fixtures in DVCQG's field names.
 */
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { promisify } from 'node:util'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { Test } from 'tap'
import type { LightMyRequestResponse as InjectResponse } from 'fastify'
import { DvcqgSimulator } from '../adapters/dvcqg/simulator.js'
import { OnestopSimulator } from '../adapters/onestop/simulator.js'
import { PaygovSimulator } from '../adapters/paygov/simulator.js'
import { resolveConfig } from '../gateway/config.js'
import { formatDvcqgDate } from '../gateway/ledger/dates.js'
import { startGateway, type Gateway } from '../gateway/server.js'
import type { GatewayConfig, HoSo, QuaTrinhXuLy } from '../schemas/types.js'
import { Pki } from '../certs/pki.js'
import { projectRoot as projectRootDir } from '../gateway/paths.js'

export const members = {
  onestop: { id: 'onestop-test', secret: 'onestop-test-secret' },
  vertical: { id: 'gplx-test', secret: 'gplx-test-secret-000' },
  reader: { id: 'portal-test', secret: 'portal-test-secret-0' },
  operator: { id: 'operator-test', secret: 'operator-test-secret' },
  disabled: { id: 'disabled-test', secret: 'disabled-test-secret' }
} as const

export function tempDir (t: Test, prefix = 'lgsp-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const execFileAsync = promisify(execFile)

/**
 * Runs an independent tool (openssl, xmlsec1): true when it exits 0, false when it refuses.
 * A missing tool fails the test with how to install it; it never passes as a refusal.
 */
export async function toolAccepts (tool: string, args: string[]): Promise<boolean> {
  try {
    await execFileAsync(tool, args)
    return true
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new Error(`${tool} is not installed: \`apt-get install -y ${tool}\` (.ci/run and tests/tools.sh do it)`)
    return false
  }
}

let pkiDir: string | undefined

const initTestPki = (dir: string): void => { new Pki(dir).init([{ id: members.onestop.id, kind: 'ec' }, { id: members.vertical.id, kind: 'rsa' }]) }

/** Start time of a process (Linux), to tell a tap run from a later process that got its pid. */
function startOf (pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[19]
  } catch {
    return undefined
  }
}

/**
 * Under the tap runner: the test PKI generated once for the whole run (by whichever test
 * process comes first), in .tap/test-pki/<runner pid>-<runner start>; folders of runs that
 * have ended are removed. Undefined outside tap or where /proc is missing.
 */
function runPki (): string | undefined {
  const start = process.env.TAP === '1' ? startOf(process.ppid) : undefined
  if (start === undefined) return undefined
  const root = join(projectRootDir, '.tap', 'test-pki')
  const final = join(root, `${process.ppid}-${start}`)
  if (existsSync(final)) return final
  mkdirSync(root, { recursive: true })
  for (const name of readdirSync(root)) {
    if (name.startsWith('new-')) continue // being written by a process of this run
    const [pid, started] = name.split('-')
    if (startOf(Number(pid)) !== started) rmSync(join(root, name), { recursive: true, force: true })
  }
  const mine = mkdtempSync(join(root, 'new-'))
  initTestPki(mine)
  try {
    renameSync(mine, final)
  } catch {
    // Another test process of this run got there first: use its PKI.
    rmSync(mine, { recursive: true, force: true })
  }
  return final
}

/**
 * One PKI per test process (a CA, the gateway's RSA-2048 identity, an ECDSA certificate
 * for the one-stop member and an RSA one for the vertical member), removed at exit: key
 * generation is the slow part, and every stack can share it. Under tap each process gets a
 * copy of the run's PKI (tests issue and revoke in theirs), so the keys are made once per run.
 */
export function testPki (): Pki {
  if (pkiDir === undefined) {
    pkiDir = mkdtempSync(join(tmpdir(), 'lgsp-pki-'))
    const dir = pkiDir
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
    const shared = runPki()
    if (shared === undefined) initTestPki(dir)
    else cpSync(shared, dir, { recursive: true })
  }
  return new Pki(pkiDir)
}

/** The test members as config entries (tests that change one member map over them). */
export function testMemberList (): Array<Record<string, unknown> & { id: string }> {
  const m = members
  return [
    { id: m.onestop.id, name: 'One-stop (test)', clientSecret: m.onestop.secret, messageKinds: ['dossier', 'progress', 'payment'], destinations: ['dvcqg', 'onestop'], defaultDestinations: ['dvcqg'], read: 'own' },
    { id: m.vertical.id, name: 'GPLX (test)', clientSecret: m.vertical.secret, messageKinds: ['dossier', 'progress'], destinations: ['dvcqg', 'onestop'], read: 'all' },
    { id: m.reader.id, name: 'Portal (test)', clientSecret: m.reader.secret, read: 'all' },
    { id: m.operator.id, name: 'Operator (test)', clientSecret: m.operator.secret, admin: true, read: 'all' },
    { id: m.disabled.id, name: 'Disabled (test)', clientSecret: m.disabled.secret, enabled: false, messageKinds: ['dossier'], destinations: ['dvcqg'] }
  ]
}

/**
 * The test access rules: the GPLX member posts records and progress on driving-licence
 * dossiers (its procedure) it does not own, and runs the tax notice poller in
 * tests/adapters/tax.test.ts; DVCQG's tax push member posts notices and receipts anywhere.
 */
export function testAccess (): Record<string, unknown> {
  return {
    rules: [
      { member: members.vertical.id, kinds: ['dossier', 'progress'], procedures: ['1.003560.000.00.00.H56'] },
      { member: members.vertical.id, kinds: ['tax-notice'], allDossiers: true },
      { member: 'dvcqg-push', kinds: ['tax-notice', 'progress'], allDossiers: true }
    ]
  }
}

/** A config document for tests: fast retries, short timeouts, both simulators. */
export function testConfigDocument (dir: string, dvcqgUrl: string, onestopUrl: string, extra: Record<string, unknown> = {}, paygov?: PaygovSimulator): Record<string, unknown> {
  return {
    profile: 'dev',
    http: { host: '127.0.0.1', port: 0 },
    store: { path: join(dir, 'lgsp.db'), synchronous: 'normal' },
    pki: { dir: testPki().dir },
    auth: { tokenSecret: 'test-token-secret-0123456789abcdef-xyz', tokenTtlSeconds: 300 },
    members: testMemberList(),
    access: testAccess(),
    destinations: {
      dvcqg: { adapter: 'dvcqg', url: dvcqgUrl, username: 'lgsp', password: 'dvcqg-dev-password', madonvi: '000.00.00.H56', concurrency: 8, timeouts: { connectMs: 500, headersMs: 600, bodyMs: 600 } },
      onestop: { adapter: 'onestop', url: onestopUrl, token: 'onestop-dev-webhook-key', concurrency: 8, timeouts: { connectMs: 500, headersMs: 600, bodyMs: 600 } }
    },
    delivery: { pollIntervalMs: 50, retry: { baseMs: 20, maxMs: 250 }, breaker: { minimumCalls: 5, openMs: 100, maxOpenMs: 400 } },
    ...(paygov === undefined
      ? {}
      : {
          payments: {
            url: paygov.url, partnerCode: paygov.partnerCode, secret: paygov.secret, destinations: ['dvcqg', 'onestop'],
            // Tests run settlement passes themselves.
            settlement: { intervalMs: 3_600_000, pendingAfterMs: 0 },
            timeouts: { connectMs: 500, headersMs: 1000, bodyMs: 1000 }
          }
        }),
    ...extra
  }
}

export interface Stack {
  gateway: Gateway
  config: GatewayConfig
  dvcqg: DvcqgSimulator
  onestop: OnestopSimulator
  paygov: PaygovSimulator
  logs: string[]
  dir: string
  /** Bearer token for a member. */
  token: (member: keyof typeof members) => Promise<string>
  /** POSTs JSON as a member through inject. */
  post: (member: keyof typeof members, url: string, body: unknown, headers?: Record<string, string>) => Promise<InjectResponse>
  get: (member: keyof typeof members, url: string) => Promise<InjectResponse>
}

export interface StackOptions {
  configExtra?: Record<string, unknown>
  /** Destinations added beside dvcqg and onestop. */
  destinations?: Record<string, unknown>
  dvcqg?: ConstructorParameters<typeof DvcqgSimulator>[0]
  listen?: boolean
}

/** Simulators and a gateway, torn down with the test. */
export async function startStack (t: Test, options: StackOptions = {}): Promise<Stack> {
  const dir = tempDir(t)
  const dvcqg = await new DvcqgSimulator(options.dvcqg).start()
  const onestop = await new OnestopSimulator().start()
  const paygov = await new PaygovSimulator().start()
  let config: GatewayConfig
  try {
    const doc = testConfigDocument(dir, dvcqg.url, onestop.url, options.configExtra, paygov)
    if (options.destinations !== undefined) doc.destinations = { ...doc.destinations as object, ...options.destinations }
    config = resolveConfig(doc, {})
  } catch (err) {
    await Promise.all([paygov.stop(), dvcqg.stop(), onestop.stop()])
    throw err
  }
  const logs: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _enc, cb) { logs.push(chunk.toString('utf8')); cb() } })
  // Registered first, so the simulators stop even when the gateway fails to start.
  let gateway: Gateway | undefined
  t.teardown(async () => {
    await paygov.stop()
    await gateway?.close()
    await dvcqg.stop()
    await onestop.stop()
  })
  gateway = await startGateway(config, { logStream: sink, listen: options.listen ?? false })
  const started = gateway
  paygov.callbackUrl = `${started.url}/v1/callbacks/paygov`
  const tokens = new Map<string, string>()
  const token = async (member: keyof typeof members): Promise<string> => {
    const cached = tokens.get(member)
    if (cached !== undefined) return cached
    const m = members[member]
    const res = await started.app.inject({
      method: 'POST',
      url: '/token',
      headers: { authorization: `Basic ${Buffer.from(`${m.id}:${m.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials'
    })
    const tok = (res.json() as { access_token: string }).access_token
    tokens.set(member, tok)
    return tok
  }
  const post: Stack['post'] = async (member, url, body, headers = {}) => started.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${await token(member)}`, 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body)
  })
  const get: Stack['get'] = async (member, url) => started.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${await token(member)}` } })
  return { gateway: started, config, dvcqg, onestop, paygov, logs, dir, token, post, get }
}

/** A bearer token for a member from a gateway listening at `base` (a real process). */
export async function tokenFrom (base: string, m: { id: string, secret: string } = members.onestop): Promise<string> {
  const { request } = await import('undici')
  const res = await request(`${base}/token`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${m.id}:${m.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' })
  return (await res.body.json() as { access_token: string }).access_token
}

/** Polls until `check` is true; fails with `what` after `timeoutMs`. A check that spawns a process polls every `intervalMs` (each spawn costs the CPU the other tests need). */
export async function waitFor (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000, intervalMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/**
 * Waits until no unit is pending (retries included) or in flight at any destination: every
 * delivery the test's messages caused has happened or dead-lettered, so "exactly once" and
 * "nothing was delivered" can be checked without sleeping.
 */
export async function waitForQueuesDrained (s: { gateway: Gateway }, timeoutMs?: number): Promise<void> {
  await waitFor('every queue drained', async () => (await s.gateway.store.queueStats()).every((q) => q.pending + q.inflight === 0), timeoutMs)
}

/** A citizen ID used to prove personal data never reaches the logs. */
export const CITIZEN_ID = '079203001234'

const base = Date.UTC(2024, 1, 1, 1, 0, 0) // 2024-02-01 08:00 in Vietnam

/** A DVCQG date `minutes` after the fixtures' base time. */
export const at = (minutes: number): string => formatDvcqgDate(base + minutes * 60_000)

/** A received (status 2) dossier in DVCQG fields. */
export function hoso (n: number, overrides: Partial<HoSo> = {}): HoSo {
  return {
    MaHoSo: `000.00.01.H56-240201-${String(n).padStart(4, '0')}`,
    MaTTHC: '1.003560.000.00.00.H56',
    TenTTHC: 'Cấp đổi giấy phép lái xe',
    MaLinhVuc: 'G13-GT01',
    TenLinhVuc: 'Đường bộ',
    KenhThucHien: '2',
    SoGiayToChuHoSo: CITIZEN_ID,
    ChuHoSo: 'Nguyễn Thị Bình',
    LoaiDoiTuong: '1',
    SoDienThoai: '0912345678',
    Email: 'binh.nguyen@example.vn',
    TrichYeuHoSo: 'Đổi giấy phép lái xe hạng B2',
    NgayTiepNhan: at(0),
    NgayHenTra: at(3 * 24 * 60),
    TrangThaiHoSo: '2',
    DonViXuLy: 'Sở Giao thông vận tải',
    TaiLieuNop: [{ TepDinhKemId: 'f1', TenTepDinhKem: 'Đơn đề nghị.pdf', DuocSoHoa: '1' }],
    DanhSachLePhi: [{ TenPhiLePhi: 'Lệ phí cấp đổi', Gia: 135000 }],
    ...overrides
  }
}

/** One progress entry. */
export function progress (maHoSo: string, minutes: number, status: QuaTrinhXuLy['TrangThai'], text = 'Chuyển xử lý'): QuaTrinhXuLy {
  return { MaHoSo: maHoSo, NguoiXuLy: 'Trần Văn Cường', ChucDanh: 'Chuyên viên', ThoiDiemXuLy: at(minutes), PhongBanXuLy: 'Phòng Quản lý phương tiện', NoiDungXuLy: text, TrangThai: status }
}

/** Runs the built `lgsp` CLI with no config to be found; resolves with the exit code and both streams. */
export async function lgspBare (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(projectRootDir, 'dist', 'gateway', 'cli.js'), ...args], { env: { ...process.env, LGSP_CONFIG: '/nonexistent/lgsp.config.json' } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}
