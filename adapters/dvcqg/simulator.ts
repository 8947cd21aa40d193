/**
 * A stand-in for the national public service portal (DVCQG) integration API, for the demo
 * and the tests: sessions that expire, error_code replies, "already exists" on a repeated
 * create, "does not exist" on an update of an unknown dossier, TraCuuHoSo, and the
 * simulator kit's switchable faults. It counts repeats: a dossier record or a progress
 * entry applied again unchanged.
 */
import { randomUUID } from 'node:crypto'
import { SimServer, type SimReply, type SimRequest } from '../simulator-kit.js'
import { canonical, progressKey, replyTable, services } from './codec.js'

export interface DvcqgSimulatorOptions {
  username?: string
  password?: string
  /** Session lifetime in ms. */
  sessionTtlMs?: number
  authPath?: string
  integrationPath?: string
  random?: () => number
}

/** What the simulator holds for one dossier. */
export interface HeldDossier {
  record: Record<string, unknown>
  progress: Array<Record<string, unknown>>
  creates: number
  updates: number
}

const ok = (extra: Record<string, unknown> = {}): SimReply => ({ status: 200, body: { error_code: 0, message: 'Thành công', ...extra } })
const err = (cls: keyof typeof replyTable, detail = ''): SimReply =>
  ({ status: 200, body: { error_code: replyTable[cls].code, message: replyTable[cls].message + detail } })

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
  readonly #sessions = new Map<string, number>()
  readonly #opts: Required<Omit<DvcqgSimulatorOptions, 'random'>>

  constructor (options: DvcqgSimulatorOptions = {}) {
    this.#opts = {
      username: options.username ?? 'lgsp',
      password: options.password ?? 'dvcqg-dev-password',
      sessionTtlMs: options.sessionTtlMs ?? 30 * 60_000,
      authPath: options.authPath ?? '/api/auth',
      integrationPath: options.integrationPath ?? '/api/integration'
    }
    this.server = new SimServer({
      name: 'dvcqg',
      random: options.random,
      routes: {
        [`POST ${this.#opts.authPath}`]: (req) => this.#login(req),
        [`POST ${this.#opts.integrationPath}`]: (req) => this.#integration(req),
        'GET /_sim/state': () => ({ status: 200, body: this.summary() }),
        'POST /_sim/expire-sessions': () => { this.expireSessions(); return { status: 200, body: {} } }
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

  summary (): Record<string, unknown> {
    let progress = 0
    for (const d of this.dossiers.values()) progress += d.progress.length
    return { dossiers: this.dossiers.size, progress, repeats: this.repeats, logins: this.logins, expiredCalls: this.expiredCalls, calls: this.calls, faults: this.server.faults, effects: this.server.counters }
  }

  #login (req: SimRequest): SimReply {
    const b = req.body as { username?: unknown, password?: unknown } | undefined
    if (b?.username !== this.#opts.username || b.password !== this.#opts.password) {
      return { status: 200, body: { error_code: -6, message: 'Sai tên đăng nhập hoặc mật khẩu' } }
    }
    const session = randomUUID()
    this.#sessions.set(session, Date.now() + this.#opts.sessionTtlMs)
    this.logins++
    return ok({ session })
  }

  #integration (req: SimRequest): SimReply {
    const b = (req.body ?? {}) as Record<string, unknown>
    const expires = this.#sessions.get(String(b.session))
    if (expires === undefined || expires < Date.now()) {
      this.expiredCalls++
      return err('session')
    }
    if (typeof b.madonvi !== 'string' || b.madonvi.length === 0) return err('rejected', ': thiếu madonvi')
    const service = String(b.service)
    this.calls[service] = (this.calls[service] ?? 0) + 1
    if (service === services.syncDossier) return this.#sync(b)
    if (service === services.updateProgress) return this.#progress(b)
    if (service === services.lookUp) return this.#lookUp(b)
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

  #lookUp (b: Record<string, unknown>): SimReply {
    const held = this.dossiers.get(String(b.mahoso))
    if (held === undefined) return err('missing', `: ${String(b.mahoso)}`)
    return ok({ data: { ...held.record, QuaTrinhXuLy: held.progress } })
  }
}
