/**
 * A stand-in for the ministry's driver-licensing system: takes dossiers, lets tests and the
 * demo move them through its statuses (`advance`) or submit dossiers at the ministry
 * (`submitHere`), and answers DanhSachHoSo/TraCuuHoSo with a change sequence. It checks
 * the bearer key, and has the simulator kit's overload modes.
 */
import { formatDvcqgDate } from '../../gateway/ledger/dates.js'
import { SimServer, type SimReply, type SimRequest } from '../simulator-kit.js'
import { isGplxStatus, type GplxRecord, type GplxStatus } from './codec.js'

export interface GplxSimulatorOptions {
  apiKey?: string
  random?: () => number
}

export class GplxSimulator {
  readonly server: SimServer
  readonly records = new Map<string, GplxRecord>()
  /** Submissions received, including repeats (answered 409). */
  submissions = 0
  repeats = 0
  readonly apiKey: string
  #seq = 0
  /** The time the next change is stamped with (tests set it; else now). */
  clock: () => number = Date.now

  constructor (options: GplxSimulatorOptions = {}) {
    this.apiKey = options.apiKey ?? 'gplx-dev-api-key'
    const authed = (h: (req: SimRequest) => SimReply) => (req: SimRequest): SimReply =>
      req.headers.authorization === `Bearer ${this.apiKey}` ? h(req) : { status: 401, body: { error: 'KHONG_CO_QUYEN' } }
    this.server = new SimServer({
      name: 'gplx',
      random: options.random,
      routes: {
        'POST /api/v1/hoso': authed((req) => this.#submit(req)),
        'GET /api/v1/DanhSachHoSo': authed((req) => this.#changes(req)),
        'GET /api/v1/TraCuuHoSo': authed((req) => {
          const r = this.records.get(req.query.get('maHoSo') ?? '')
          return r === undefined ? { status: 404, body: { error: 'KHONG_TIM_THAY' } } : { status: 200, body: r }
        }),
        'GET /_sim/state': () => ({ status: 200, body: { records: this.records.size, submissions: this.submissions, repeats: this.repeats, seq: this.#seq, effects: this.server.counters } })
      }
    })
  }

  get url (): string { return this.server.url }

  async start (port = 0): Promise<this> {
    await this.server.start(port)
    return this
  }

  stop (): Promise<void> { return this.server.stop() }

  #stamp (r: GplxRecord): void {
    r.phienBan = ++this.#seq
    r.thoiDiemCapNhat = formatDvcqgDate(this.clock())
    r.lichSu.push({ trangThai: r.trangThai, thoiDiem: r.thoiDiemCapNhat, phienBan: r.phienBan })
  }

  #submit (req: SimRequest): SimReply {
    const b = (req.body ?? {}) as Record<string, unknown>
    this.submissions++
    if (typeof b.maHoSo !== 'string' || typeof b.maTTHC !== 'string' || typeof b.hoTen !== 'string') return { status: 400, body: { error: 'THIEU_THONG_TIN' } }
    if (this.records.has(b.maHoSo)) {
      this.repeats++
      return { status: 409, body: { error: 'DA_TON_TAI' } }
    }
    const r: GplxRecord = {
      maHoSo: b.maHoSo, maTTHC: b.maTTHC, tenTTHC: String(b.tenTTHC ?? ''), hoTen: b.hoTen, soCmnd: String(b.soCmnd ?? ''),
      trangThai: 'TIEP_NHAN', thoiDiemCapNhat: formatDvcqgDate(this.clock()), ngayTiepNhan: String(b.ngayTiepNhan ?? ''), ngayHenTra: String(b.ngayHenTra ?? ''), phienBan: 0, lichSu: []
    }
    // Received from the province (phienBan 0, no history step): nothing the province needs to hear back.
    this.records.set(r.maHoSo, r)
    return { status: 201, body: { maHoSo: r.maHoSo, trangThai: r.trangThai } }
  }

  #changes (req: SimRequest): SimReply {
    const after = Number(req.query.get('sauPhienBan') ?? 0)
    const limit = Math.min(1000, Number(req.query.get('soLuong') ?? 100))
    const items = [...this.records.values()].filter((r) => r.phienBan > after).sort((a, b) => a.phienBan - b.phienBan).slice(0, limit)
      .map((r) => ({ maHoSo: r.maHoSo, trangThai: r.trangThai, phienBan: r.phienBan }))
    return { status: 200, body: { items } }
  }

  /** The ministry moves a dossier to a status (sát hạch, in bằng, trả kết quả…). */
  advance (maHoSo: string, status: GplxStatus): void {
    const r = this.records.get(maHoSo)
    if (r === undefined || !isGplxStatus(status)) return
    r.trangThai = status
    if (status === 'HOAN_THANH') r.ngayKetThuc = formatDvcqgDate(this.clock())
    this.#stamp(r)
  }

  /** A dossier submitted at the ministry itself (not through the province's one-stop). */
  submitHere (r: Omit<GplxRecord, 'phienBan' | 'thoiDiemCapNhat' | 'lichSu'>): void {
    const record: GplxRecord = { ...r, phienBan: 0, thoiDiemCapNhat: '', lichSu: [] }
    this.records.set(record.maHoSo, record)
    this.#stamp(record)
  }
}
