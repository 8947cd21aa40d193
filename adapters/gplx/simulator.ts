/**
 * A stand-in for the ministry's driver-licensing service as provinces call it: session
 * login, then one service endpoint taking `{session, service, donViXuLy, …}`:
 * DanhSachHoSo (`ngayNhan1`/`ngayNhan2`, yyyy-MM-dd, over the date each dossier was
 * received), TraCuuHoSo (`mahoso`) and LayTaiLieuHoSo (`duongdanteptin`); replies
 * `{error_code, data: […]}`, dates `dd/MM/yyyy HH:mm:ss`, statuses as `MaTrangThai`.
 * Sessions expire (`sessionTtlMs`, or `expireSessions()`); a call with an expired session
 * gets a non-zero error_code. Tests and the demo receive dossiers (`receive`), move them
 * (`advance`), and may hold one back from the list for a while (`listed: false`, then
 * `publish`), as the ministry's index does at a day's edge. The simulator kit's overload
 * modes apply (error, hang, slow, drop, random).
 */
import { randomUUID } from 'node:crypto'
import { formatDvcqgDate, vnDate } from '../../gateway/ledger/dates.js'
import { stateNames, type DossierState } from '../../gateway/ledger/state-machine.js'
import { SimServer, type SimReply, type SimRequest } from '../simulator-kit.js'
import { toGplxDate, type GplxDetail, type GplxListItem } from './codec.js'

export interface GplxSimulatorOptions {
  username?: string
  password?: string
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string
  sessionTtlMs?: number
  random?: () => number
}

/** A dossier held by the simulated ministry. */
export interface GplxSimRecord {
  item: GplxListItem
  detail: GplxDetail
  /** Epoch ms it was received (the DanhSachHoSo window is over its Vietnam date). */
  receivedAt: number
  /** False while the ministry's list does not show it yet. */
  listed: boolean
}

export interface GplxReceive {
  maHoSo: string
  maTTHC: string
  tenDVC?: string
  hoTen: string
  soCmnd: string
  ngaySinh?: string
  hangDaoTao?: string
  lyDoDoiGplx?: string
  /** DVCQG date of the due date. */
  ngayHenTra: string
  /** Default "2" (received). */
  maTrangThai?: string
  /** Default the simulator's clock. */
  receivedAt?: number
  /** Default true. */
  listed?: boolean
}

const fail = (code: string, message: string): SimReply => ({ status: 200, body: { error_code: code, message, data: [] } })

export class GplxSimulator {
  readonly server: SimServer
  readonly records = new Map<string, GplxSimRecord>()
  readonly username: string
  readonly password: string
  readonly token: string | undefined
  readonly authPath = '/apiDVC-GPLX/tcdbdvcdata/mapi/login'
  readonly integrationPath = '/apiDVC-GPLX/tcdbdvcdata/mapi/g'
  /** Session → expiry (epoch ms). */
  readonly #sessions = new Map<string, number>()
  sessionTtlMs: number
  logins = 0
  /** Calls refused for an unknown or expired session. */
  sessionRejections = 0
  /** Calls per service. */
  readonly calls: Record<string, number> = {}
  /** Windows asked for with DanhSachHoSo, in order. */
  readonly windows: Array<[string, string]> = []
  /** The simulator's time (tests set it; else now). */
  clock: () => number = Date.now

  constructor (options: GplxSimulatorOptions = {}) {
    this.username = options.username ?? 'lgsp-gplx'
    this.password = options.password ?? 'gplx-dev-password'
    this.token = options.token
    this.sessionTtlMs = options.sessionTtlMs ?? 600_000
    const guarded = (h: (req: SimRequest) => SimReply) => (req: SimRequest): SimReply =>
      this.token === undefined || req.headers.authorization === `Bearer ${this.token}` ? h(req) : { status: 401, body: { error: 'Unauthorized' } }
    this.server = new SimServer({
      name: 'gplx',
      random: options.random,
      routes: {
        [`POST ${this.authPath}`]: guarded((req) => this.#login(req)),
        [`POST ${this.integrationPath}`]: guarded((req) => this.#service(req)),
        'GET /_sim/state': () => ({ status: 200, body: { records: this.records.size, logins: this.logins, sessionRejections: this.sessionRejections, calls: this.calls, effects: this.server.counters } })
      }
    })
  }

  get url (): string { return this.server.url }

  async start (port = 0): Promise<this> {
    await this.server.start(port)
    return this
  }

  stop (): Promise<void> { return this.server.stop() }

  /** Every session ends now (the next call is refused until the client logs in again). */
  expireSessions (): void {
    this.#sessions.clear()
  }

  #login (req: SimRequest): SimReply {
    const b = (req.body ?? {}) as { username?: unknown, password?: unknown }
    if (b.username !== this.username || b.password !== this.password) return { status: 200, body: { error_code: '-1', result: 'Sai tên đăng nhập hoặc mật khẩu' } }
    const session = randomUUID()
    this.#sessions.set(session, this.clock() + this.sessionTtlMs)
    this.logins++
    return { status: 200, body: { error_code: '0', result: 'Đăng nhập thành công', session } }
  }

  #service (req: SimRequest): SimReply {
    const b = (req.body ?? {}) as Record<string, unknown>
    const expires = this.#sessions.get(String(b.session))
    if (expires === undefined || expires < this.clock()) {
      this.sessionRejections++
      return fail('-2', 'Phiên làm việc không hợp lệ hoặc đã hết hạn')
    }
    const service = String(b.service)
    this.calls[service] = (this.calls[service] ?? 0) + 1
    if (service === 'DanhSachHoSo') {
      const from = String(b.ngayNhan1 ?? '')
      const to = String(b.ngayNhan2 ?? '')
      if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || !/^\d{4}-\d{2}-\d{2}$/.test(to)) return fail('-3', 'ngayNhan1, ngayNhan2 phải có dạng yyyy-MM-dd')
      this.windows.push([from, to])
      const data = [...this.records.values()]
        .filter((r) => r.listed && vnDate(r.receivedAt) >= from && vnDate(r.receivedAt) <= to)
        .sort((a, b) => a.receivedAt - b.receivedAt)
        .map((r) => r.item)
      return { status: 200, body: { error_code: '0', data } }
    }
    if (service === 'TraCuuHoSo') {
      const r = this.records.get(String(b.mahoso ?? ''))
      return { status: 200, body: { error_code: '0', data: r === undefined ? [] : [r.detail] } }
    }
    if (service === 'LayTaiLieuHoSo') {
      const path = String(b.duongdanteptin ?? '')
      const found = [...this.records.values()].flatMap((r) => r.item.hoSoDinhKem ?? []).find((f) => f.filedinhkem === path)
      return { status: 200, body: { error_code: '0', TepTinDinhKem: found === undefined ? [] : [{ Base64: Buffer.from(`%PDF-1.4 ${path}`).toString('base64'), DuongDan: path, TenTaiLieu: found.tengiayto ?? '' }] } }
    }
    return fail('-4', `Dịch vụ ${service} không tồn tại`)
  }

  /** A dossier received at the ministry (submitted on its own channel). */
  receive (r: GplxReceive): void {
    const receivedAt = r.receivedAt ?? this.clock()
    const code = r.maTrangThai ?? '2'
    const at = toGplxDate(formatDvcqgDate(receivedAt))
    const item: GplxListItem = {
      maHoSo: r.maHoSo, hoTen: r.hoTen, soCmnd: r.soCmnd, ngaySinh: r.ngaySinh ?? '1990-01-01', ngayNhanHoSo: at,
      ngayHenTraGplx: toGplxDate(r.ngayHenTra), hangDaoTao: r.hangDaoTao ?? 'B2', lyDoDoiGplx: r.lyDoDoiGplx ?? 'Đổi giấy phép lái xe hết hạn',
      dvhcNoiCuTru: '5600001', hoSoDinhKem: [{ magiayto: 'DON', tengiayto: 'Đơn đề nghị', filedinhkem: `/gplx/${r.maHoSo}/don.pdf` }]
    }
    const detail: GplxDetail = {
      MaHoSo: r.maHoSo, MaTTHC: r.maTTHC, MaDVC: r.maTTHC, TenDVC: r.tenDVC ?? 'Cấp đổi giấy phép lái xe', HoTenNguoiNop: r.hoTen,
      MaTrangThai: code, TrangThaiHoSo: stateNames[Number(code) as DossierState] ?? `Mã ${code}`,
      DonViXuLy: 'Sở Giao thông vận tải', MaDonViXuLy: 'SGTVT-H56', NgayNop: at, NgayTiepNhan: at, NgayHenTra: toGplxDate(r.ngayHenTra), HinhThucNhanKQ: '0'
    }
    this.records.set(r.maHoSo, { item, detail, receivedAt, listed: r.listed ?? true })
  }

  /** The ministry moves a dossier to a status code (sát hạch, in bằng, trả kết quả…). */
  advance (maHoSo: string, code: string, name?: string): void {
    const r = this.records.get(maHoSo)
    if (r === undefined) return
    r.detail.MaTrangThai = code
    r.detail.TrangThaiHoSo = name ?? stateNames[Number(code) as DossierState] ?? `Mã ${code}`
  }

  /** A dossier held back from DanhSachHoSo now shows in it. */
  publish (maHoSo: string): void {
    const r = this.records.get(maHoSo)
    if (r !== undefined) r.listed = true
  }
}
