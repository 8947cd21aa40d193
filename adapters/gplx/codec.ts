/**
 * The driver-licensing system (GPLX) of the Ministry of Transport, pure functions: its
 * records as DanhSachHoSo and TraCuuHoSo return them, its dates, and the mapping of its
 * `MaTrangThai` codes onto DVCQG's TrangThaiHoSo 1–10.
 */
import { isDvcqgDate } from '../../gateway/ledger/dates.js'
import type { DossierState } from '../../gateway/ledger/state-machine.js'
import type { HoSo, QuaTrinhXuLy } from '../../schemas/types.js'

/** One dossier of DanhSachHoSo (lower camel case, as the ministry writes it). Personal data: never logged. */
export interface GplxListItem {
  maHoSo: string
  hoTen?: string
  /** yyyy-MM-dd. */
  ngaySinh?: string
  soCmnd?: string
  /** When the ministry received it (dd/MM/yyyy HH:mm:ss); the window is over this date. */
  ngayNhanHoSo?: string
  ngayHenTraGplx?: string
  hangDaoTao?: string
  lyDoDoiGplx?: string
  dvhcNoiCuTru?: string
  hoSoDinhKem?: Array<{ magiayto?: string, tengiayto?: string, filedinhkem?: string }>
  [field: string]: unknown
}

/** One dossier of TraCuuHoSo (upper camel case, as the ministry writes it). */
export interface GplxDetail {
  MaHoSo: string
  MaTTHC?: string
  MaDVC?: string
  TenDVC?: string
  HoTenNguoiNop?: string
  /** The ministry's status code. */
  MaTrangThai?: string
  /** The status's name. */
  TrangThaiHoSo?: string
  DonViXuLy?: string
  MaDonViXuLy?: string
  /** dd/MM/yyyy HH:mm:ss, like the two below. */
  NgayNop?: string
  NgayTiepNhan?: string
  NgayHenTra?: string
  /** "1": the result is posted to the citizen. */
  HinhThucNhanKQ?: string
  [field: string]: unknown
}

/**
 * MaTrangThai → TrangThaiHoSo. The ministry's service copies DVCQG's interface (session,
 * `service`, TraCuuHoSo, `error_code`) and its status codes are DVCQG's numbering; codes
 * it adds are configured per destination (`statusCodes`).
 */
export const defaultStatusCodes: Readonly<Record<string, DossierState>> = {
  1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 10: 10
}

/** The TrangThaiHoSo of a code, or undefined when neither table knows it. */
export function statusOf (code: unknown, extra: Readonly<Record<string, number | undefined>> = {}): DossierState | undefined {
  const key = typeof code === 'number' ? String(code) : typeof code === 'string' ? code.trim() : ''
  if (key === '') return undefined
  const s = extra[key] ?? defaultStatusCodes[key]
  return s === undefined ? undefined : s as DossierState
}

/** 3, 7, 8 and 10 are final: such a dossier is no longer looked up. */
export const isFinal = (s: DossierState): boolean => s === 3 || s === 7 || s === 8 || s === 10

/** A GPLX date `dd/MM/yyyy HH:mm:ss` (Vietnam time) as a DVCQG date, or undefined. */
export function gplxDate (value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const m = /^(\d{2})\/(\d{2})\/(\d{4})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value.trim())
  if (m === null) return undefined
  const out = `${m[3]}${m[2]}${m[1]}${m[4] ?? '00'}${m[5] ?? '00'}${m[6] ?? '00'}`
  return isDvcqgDate(out) ? out : undefined
}

/** A DVCQG date as GPLX writes it (the simulator's). */
export function toGplxDate (d: string): string {
  return `${d.slice(6, 8)}/${d.slice(4, 6)}/${d.slice(0, 4)} ${d.slice(8, 10)}:${d.slice(10, 12)}:${d.slice(12, 14)}`
}

/** `yyyy-MM-dd` plus `n` days (window arithmetic on calendar dates). */
export function addDays (day: string, n: number): string {
  const t = Date.parse(`${day}T00:00:00Z`) + n * 86_400_000
  return new Date(t).toISOString().slice(0, 10)
}

/** A dossier first seen at the ministry (submitted on its own channel), as a HoSo for the ledger and DVCQG. */
export function toHoSo (maHoSo: string, item: GplxListItem | undefined, d: GplxDetail, state: DossierState): HoSo {
  const record: HoSo = {
    MaHoSo: maHoSo,
    MaTTHC: d.MaTTHC ?? '',
    TenTTHC: d.TenDVC ?? 'Cấp, đổi giấy phép lái xe',
    // The ministry's own channel is its online public service.
    KenhThucHien: '2',
    ChuHoSo: item?.hoTen ?? d.HoTenNguoiNop ?? '',
    LoaiDoiTuong: '1',
    TrangThaiHoSo: String(state) as HoSo['TrangThaiHoSo'],
    DonViXuLy: d.DonViXuLy ?? 'Hệ thống cấp giấy phép lái xe (Bộ Giao thông vận tải)'
  }
  const received = gplxDate(d.NgayTiepNhan)
  const due = gplxDate(d.NgayHenTra)
  const submitted = gplxDate(d.NgayNop)
  if (received !== undefined) record.NgayTiepNhan = received
  if (due !== undefined) record.NgayHenTra = due
  if (submitted !== undefined) record.NgayNopHoSo = submitted
  if (item?.soCmnd !== undefined && /^[A-Za-z0-9]{6,20}$/.test(item.soCmnd)) record.SoGiayToChuHoSo = item.soCmnd
  const summary = [item?.lyDoDoiGplx, item?.hangDaoTao === undefined ? undefined : `hạng ${item.hangDaoTao}`].filter((x) => x !== undefined && x !== '').join(', ')
  if (summary !== '') record.TrichYeuHoSo = summary
  // Attachments' metadata (hoSoDinhKem), for the digitisation indicators; the files stay at the ministry (LayTaiLieuHoSo).
  const files = (item?.hoSoDinhKem ?? []).filter((f) => typeof f?.tengiayto === 'string' && f.tengiayto !== '').slice(0, 200)
  if (files.length > 0) {
    record.TaiLieuNop = files.map((f) => ({
      TenTepDinhKem: f.tengiayto!.slice(0, 500),
      ...(typeof f.magiayto === 'string' && f.magiayto !== '' ? { MaThanhPhanHoSo: f.magiayto.slice(0, 100) } : {}),
      ...(typeof f.filedinhkem === 'string' && f.filedinhkem !== '' ? { DuongDanTaiTepTin: f.filedinhkem.slice(0, 2000) } : {})
    }))
  }
  return record
}

/** A status seen at the ministry, as a progress entry observed at `at` (TraCuuHoSo carries no time of change). */
export function toProgress (maHoSo: string, state: DossierState, at: string, name: string | undefined): QuaTrinhXuLy {
  const text = name ?? `trạng thái ${state}`
  return {
    MaHoSo: maHoSo,
    ThoiDiemXuLy: at,
    TrangThai: state,
    NoiDungXuLy: `Hệ thống GPLX: ${text}`.slice(0, 2000),
    PhongBanXuLy: 'Hệ thống cấp giấy phép lái xe'
  }
}
