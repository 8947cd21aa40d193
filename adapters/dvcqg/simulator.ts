/**
 * A stand-in for the national public service portal (DVCQG) integration API, for the demo
 * and the tests, answering as the portal does: success as `error_code "00"`, sessions that
 * expire (a little over ten minutes), a `dstcode` header required on integration calls,
 * "already exists" on a repeated create, "does not exist" on an update of an unknown
 * dossier, TraCuuHoSo by `mahoso` answering `result: [record]` (`[]` when unknown),
 * DongBoTrangThaiHoSo, the catalogue services (LayDanhSachTTHC, LayThuTuc,
 * LayDanhMucCoQuan) over a catalogue it is given, the simulator kit's switchable faults,
 * and "apply then fail" (a write applied, then answered 500). It counts repeats: a dossier
 * record or a progress entry applied again unchanged.
 */
import { randomUUID } from 'node:crypto'
import { SimServer, type SimReply, type SimRequest } from '../simulator-kit.js'
import { canonical, isSuccessCode, progressKey, replyTable, services, statusOf } from './codec.js'

export interface DvcqgSimulatorOptions {
  username?: string
  password?: string
  /** Session lifetime in ms (default 11 minutes: clients renew about every ten). */
  sessionTtlMs?: number
  authPath?: string
  integrationPath?: string
  random?: () => number
  /** The clock sessions expire by (tests move it). */
  now?: () => number
  /** Procedures served by LayDanhSachTTHC / LayThuTuc, in DVCQG's upper-case keys (default: a small sample). */
  procedures?: Array<Record<string, unknown>>
  /** Agencies served by LayDanhMucCoQuan (`MADONVI, TENDONVI, CAPDONVI`). */
  agencies?: Array<Record<string, unknown>>
}

/** The sample catalogue: both MaTTHC forms DVCQG uses (`1.003560.000.00.00.H56` and `2.002621.H56`). */
export const sampleProcedures: Array<Record<string, unknown>> = [
  { MATTHC: '1.003560.000.00.00.H56', TENTTHC: 'Cấp đổi giấy phép lái xe do ngành Giao thông vận tải cấp', MALINHVUC: 'G13-GT01', TENLINHVUC: 'Đường bộ', THOIGIANGIAIQUYET: '5', PHILEPHI: [{ MAPHILEPHI: 'LP01', TENPHILEPHI: 'Lệ phí cấp đổi', GIA: '135000' }] },
  { MATTHC: '2.002621.H56', TENTTHC: 'Thủ tục xác nhận thông tin hộ tịch', MALINHVUC: 'G17-TP01', TENLINHVUC: 'Hộ tịch', THOIGIANGIAIQUYET: '3', PHILEPHI: [] },
  { MATTHC: '1.010001.000.00.00.H56', TENTTHC: 'Cấp giấy phép hoạt động (mẫu học DVCQG)', MALINHVUC: 'G99-XX01', PHILEPHI: [{ TENPHILEPHI: 'Phí thẩm định', GIA: '500000' }] }
]

/** The sample agency list (LayDanhMucCoQuan's upper-case keys). */
export const sampleAgencies: Array<Record<string, unknown>> = [
  { MADONVI: '000.00.00.H56', TENDONVI: 'UBND tỉnh (mẫu)', CAPDONVI: '1' },
  { MADONVI: '000.00.13.H56', TENDONVI: 'Sở Giao thông vận tải (mẫu)', CAPDONVI: '2' }
]

/** What the simulator holds for one dossier. */
export interface HeldDossier {
  record: Record<string, unknown>
  progress: Array<Record<string, unknown>>
  creates: number
  updates: number
}

// The portal answers success as the string "00" with a message containing "thành công".
const ok = (extra: Record<string, unknown> = {}): SimReply => ({ status: 200, body: { error_code: '00', message: 'Thực hiện thành công', ...extra } })
const err = (cls: keyof typeof replyTable, detail = ''): SimReply =>
  ({ status: 200, body: { error_code: replyTable[cls].code, message: replyTable[cls].message + detail } })

/** Services that change what DVCQG holds (the ones "apply then fail" hits). */
const writes: ReadonlySet<string> = new Set([services.syncDossier, services.updateProgress, services.syncStatus])

export class DvcqgSimulator {
  readonly server: SimServer
  readonly dossiers = new Map<string, HeldDossier>()
  /** Records or progress entries that arrived again unchanged: a double delivery. */
  repeats = 0
  /** Session logins accepted, and calls refused for an expired session. */
  logins = 0
  expiredCalls = 0
  /** Calls per service. */
  readonly calls: Record<string, number> = {}
  /** Progress arrival order per dossier (ThoiDiemXuLy values as received). */
  readonly arrivals = new Map<string, string[]>()
  /** `dstcode` header values seen on integration calls, and calls refused for lacking one. */
  readonly dstcodes: Record<string, number> = {}
  missingDstcode = 0
  /** DongBoTrangThaiHoSo calls applied. */
  statusUpdates = 0
  /** Dossiers whose DongBoHoSoMC is refused for good (POST /_sim/refuse): the demo's way to a dead letter. */
  readonly refused = new Set<string>()
  /** Writes still to be applied and then answered with `applyThenError.status`. */
  applyThenError = { remaining: 0, status: 500 }
  readonly procedures: Array<Record<string, unknown>>
  readonly agencies: Array<Record<string, unknown>>
  readonly #sessions = new Map<string, number>()
  readonly #opts: Required<Omit<DvcqgSimulatorOptions, 'random' | 'procedures' | 'agencies'>>

  constructor (options: DvcqgSimulatorOptions = {}) {
    this.#opts = {
      username: options.username ?? 'lgsp',
      password: options.password ?? 'dvcqg-dev-password',
      sessionTtlMs: options.sessionTtlMs ?? 11 * 60_000,
      authPath: options.authPath ?? '/api/auth',
      integrationPath: options.integrationPath ?? '/api/integration',
      now: options.now ?? Date.now
    }
    this.procedures = options.procedures ?? sampleProcedures
    this.agencies = options.agencies ?? sampleAgencies
    this.server = new SimServer({
      name: 'dvcqg',
      random: options.random,
      routes: {
        [`POST ${this.#opts.authPath}`]: (req) => this.#login(req),
        [`POST ${this.#opts.integrationPath}`]: (req) => this.#integration(req),
        'GET /_sim/state': () => ({ status: 200, body: this.summary() }),
        'POST /_sim/expire-sessions': () => { this.expireSessions(); return { status: 200, body: {} } },
        'POST /_sim/refuse': (req) => {
          const b = (req.body ?? {}) as { MaHoSo?: unknown, refuse?: unknown }
          if (typeof b.MaHoSo !== 'string') return { status: 400, body: { error: 'give {"MaHoSo": "…"} ({"refuse": false} lifts it)' } }
          if (b.refuse === false) this.refused.delete(b.MaHoSo)
          else this.refused.add(b.MaHoSo)
          return { status: 200, body: { refused: [...this.refused] } }
        },
        'POST /_sim/apply-then-error': (req) => {
          const b = (req.body ?? {}) as { count?: unknown, status?: unknown }
          this.failAfterApplying(typeof b.count === 'number' ? b.count : 1, typeof b.status === 'number' ? b.status : 500)
          return { status: 200, body: this.applyThenError }
        }
      }
    })
  }

  get url (): string { return this.server.url }
  get integrationPath (): string { return this.#opts.integrationPath }
  get authPath (): string { return this.#opts.authPath }

  async start (port = 0): Promise<this> {
    await this.server.start(port)
    return this
  }

  stop (): Promise<void> { return this.server.stop() }

  /** Forgets every session: the next call of each client gets "session invalid". */
  expireSessions (): void { this.#sessions.clear() }

  /** The next `count` writes are applied, then answered with HTTP `status` (a portal or proxy failing after the work was done). */
  failAfterApplying (count = 1, status = 500): void {
    this.applyThenError = { remaining: count, status }
  }

  summary (): Record<string, unknown> {
    let progress = 0
    for (const d of this.dossiers.values()) progress += d.progress.length
    return { dossiers: this.dossiers.size, progress, repeats: this.repeats, logins: this.logins, expiredCalls: this.expiredCalls, statusUpdates: this.statusUpdates, dstcodes: this.dstcodes, missingDstcode: this.missingDstcode, calls: this.calls, faults: this.server.faults, applyThenError: this.applyThenError, effects: this.server.counters }
  }

  #login (req: SimRequest): SimReply {
    const b = req.body as { username?: unknown, password?: unknown } | undefined
    if (b?.username !== this.#opts.username || b.password !== this.#opts.password) {
      return { status: 200, body: { error_code: '-6', message: 'Sai tên đăng nhập hoặc mật khẩu' } }
    }
    const session = randomUUID()
    const now = this.#opts.now()
    this.#sessions.set(session, now + this.#opts.sessionTtlMs)
    // Sessions long expired are forgotten, so a long run does not grow the map.
    for (const [id, expires] of this.#sessions) if (expires < now - this.#opts.sessionTtlMs) this.#sessions.delete(id)
    this.logins++
    return ok({ session })
  }

  #integration (req: SimRequest): SimReply {
    const b = (req.body ?? {}) as Record<string, unknown>
    const dstcode = req.headers.dstcode
    if (typeof dstcode !== 'string' || dstcode.length === 0) {
      this.missingDstcode++
      return { status: 200, body: { error_code: '-7', message: 'Thiếu thông tin dstcode trong header' } }
    }
    this.dstcodes[dstcode] = (this.dstcodes[dstcode] ?? 0) + 1
    const expires = this.#sessions.get(String(b.session))
    if (expires === undefined || expires < this.#opts.now()) {
      this.expiredCalls++
      return err('session')
    }
    if (typeof b.madonvi !== 'string' || b.madonvi.length === 0) return err('rejected', ': thiếu madonvi')
    const service = String(b.service)
    this.calls[service] = (this.calls[service] ?? 0) + 1
    const reply = this.#serve(service, b)
    const failing = this.applyThenError
    if (writes.has(service) && failing.remaining > 0 && reply.status === 200 && isSuccessCode((reply.body as { error_code?: unknown }).error_code)) {
      failing.remaining--
      return { status: failing.status, body: '<html><body>500 Internal Server Error</body></html>' }
    }
    return reply
  }

  #serve (service: string, b: Record<string, unknown>): SimReply {
    if (service === services.syncDossier) return this.#sync(b)
    if (service === services.updateProgress) return this.#progress(b)
    if (service === services.lookUp) return this.#lookUp(b)
    if (service === services.syncStatus) return this.#status(b)
    if (service === services.procedures) return ok({ result: this.procedures.map((p) => ({ MATTHC: p.MATTHC, TENTTHC: p.TENTTHC, MALINHVUC: p.MALINHVUC })) })
    if (service === services.procedure) {
      const code = String(b.maTTHC ?? b.matthc ?? '')
      return ok({ result: this.procedures.filter((p) => p.MATTHC === code) })
    }
    if (service === services.agencies) return ok({ result: this.agencies })
    return err('rejected', `: service ${service} không được hỗ trợ`)
  }

  #sync (b: Record<string, unknown>): SimReply {
    const data = b.data
    if (!Array.isArray(data) || data.length === 0) return err('rejected', ': data rỗng')
    const updating = b.isUpdating === 'True'
    if (!updating && b.isUpdating !== 'False') return err('rejected', ': isUpdating phải là "True" hoặc "False"')
    const records = data as Array<Record<string, unknown>>
    for (const r of records) {
      if (typeof r.MaHoSo !== 'string' || typeof r.MaTTHC !== 'string' || r.TrangThaiHoSo === undefined) return err('rejected', ': thiếu MaHoSo, MaTTHC hoặc TrangThaiHoSo')
      if (this.refused.has(r.MaHoSo)) return err('rejected', `: hồ sơ ${r.MaHoSo} bị từ chối`)
      const held = this.dossiers.get(r.MaHoSo)
      if (!updating && held !== undefined) return err('exists', `: ${r.MaHoSo}`)
      if (updating && held === undefined) return err('missing', `: ${r.MaHoSo}`)
    }
    for (const r of records) {
      const id = r.MaHoSo as string
      const held = this.dossiers.get(id)
      if (held === undefined) {
        this.dossiers.set(id, { record: r, progress: [], creates: 1, updates: 0 })
      } else {
        if (canonical(held.record) === canonical(r)) this.repeats++
        held.record = r
        held.updates++
      }
    }
    return ok()
  }

  #progress (b: Record<string, unknown>): SimReply {
    const data = b.data
    if (!Array.isArray(data) || data.length === 0) return err('rejected', ': data rỗng')
    if (data.length > 10) return err('rejected', ': tối đa 10 bản ghi mỗi lần')
    const entries = data as Array<Record<string, unknown>>
    for (const e of entries) {
      if (typeof e.MaHoSo !== 'string' || !this.dossiers.has(e.MaHoSo)) return err('missing', `: ${String(e.MaHoSo)}`)
    }
    for (const e of entries) {
      const held = this.dossiers.get(e.MaHoSo as string)!
      const key = progressKey(e)
      if (held.progress.some((p) => progressKey(p) === key)) this.repeats++
      held.progress.push(e)
      // The portal shows the dossier at the status of its latest progress call (the worst case
      // for a client that sends history after the record: the gateway must leave it right).
      if (e.TrangThai !== undefined) held.record = { ...held.record, TrangThaiHoSo: String(e.TrangThai) }
      const seen = this.arrivals.get(e.MaHoSo as string) ?? []
      seen.push(String(e.ThoiDiemXuLy))
      this.arrivals.set(e.MaHoSo as string, seen)
    }
    return ok()
  }

  /** TraCuuHoSo: asked with `mahoso`; the record with its QuaTrinhXuLy in `result`, `[]` when unknown. */
  #lookUp (b: Record<string, unknown>): SimReply {
    if (typeof b.mahoso !== 'string' || b.mahoso.length === 0) return err('rejected', ': thiếu mahoso')
    const held = this.dossiers.get(b.mahoso)
    return ok({ result: held === undefined ? [] : [{ ...held.record, QuaTrinhXuLy: held.progress }] })
  }

  /** DongBoTrangThaiHoSo: `type "2"`, `data` one object naming the dossier and its status. */
  #status (b: Record<string, unknown>): SimReply {
    if (String(b.type) !== '2') return err('rejected', ': type phải là "2"')
    const data = b.data
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return err('rejected', ': data phải là một đối tượng')
    const d = data as Record<string, unknown>
    const status = statusOf(d)
    if (typeof d.MaHoSo !== 'string' || status === undefined || !/^([1-9]|10)$/.test(status)) return err('rejected', ': thiếu MaHoSo hoặc TrangThai')
    const held = this.dossiers.get(d.MaHoSo)
    if (held === undefined) return err('missing', `: ${d.MaHoSo}`)
    held.record = { ...held.record, TrangThaiHoSo: status }
    this.statusUpdates++
    return ok()
  }
}
