/**
 * The driver-licensing ministry system (GPLX), pure functions: its record and status
 * codes, and their mapping onto DVCQG's HoSo and TrangThaiHoSo 1–10.
 */
import type { HoSo, QuaTrinhXuLy } from '../../schemas/types.js'

/** A dossier as the ministry's TraCuuHoSo returns it. */
export interface GplxRecord {
  maHoSo: string
  maTTHC: string
  tenTTHC: string
  hoTen: string
  ngaySinh?: string
  soCmnd: string
  hangDaoTao?: string
  trangThai: GplxStatus
  /** yyyyMMddHHmmss of the last change. */
  thoiDiemCapNhat: string
  ngayTiepNhan: string
  ngayHenTra: string
  ngayKetThuc?: string
  /** The ministry's change sequence number (DanhSachHoSo cursor). */
  phienBan: number
  /** Every status the dossier went through at the ministry, oldest first. */
  lichSu: GplxStep[]
}

/** One step of a dossier's history at the ministry. */
export interface GplxStep {
  trangThai: GplxStatus
  /** yyyyMMddHHmmss. */
  thoiDiem: string
  phienBan: number
}

/** One line of DanhSachHoSo: a dossier that changed. */
export interface GplxChange {
  maHoSo: string
  trangThai: GplxStatus
  phienBan: number
}

/** The ministry's statuses and the TrangThaiHoSo each means. */
export const statusMap = {
  MOI: 1,
  TIEP_NHAN: 2,
  TU_CHOI: 3,
  DANG_XU_LY: 4,
  BO_SUNG: 5,
  NGHIA_VU_TAI_CHINH: 6,
  RUT_HO_SO: 7,
  DUNG_XU_LY: 8,
  HOAN_THANH: 9,
  DA_TRA_KET_QUA: 10
} as const

export type GplxStatus = keyof typeof statusMap

const statusText: Record<GplxStatus, string> = {
  MOI: 'mới đăng ký', TIEP_NHAN: 'tiếp nhận', TU_CHOI: 'từ chối tiếp nhận', DANG_XU_LY: 'đang xử lý (sát hạch, in bằng)',
  BO_SUNG: 'yêu cầu bổ sung', NGHIA_VU_TAI_CHINH: 'yêu cầu nộp lệ phí', RUT_HO_SO: 'công dân rút hồ sơ', DUNG_XU_LY: 'dừng xử lý',
  HOAN_THANH: 'đã cấp giấy phép lái xe', DA_TRA_KET_QUA: 'đã trả giấy phép lái xe'
}

export const isGplxStatus = (s: unknown): s is GplxStatus => typeof s === 'string' && s in statusMap

/** The submission body for the ministry (POST /api/v1/hoso). */
export function toMinistry (r: HoSo): Record<string, unknown> {
  return {
    maHoSo: r.MaHoSo,
    maTTHC: r.MaTTHC,
    tenTTHC: r.TenTTHC,
    hoTen: r.ChuHoSo,
    soCmnd: r.SoGiayToChuHoSo ?? '',
    ngayTiepNhan: r.NgayTiepNhan ?? r.NgayNopHoSo ?? '',
    ngayHenTra: r.NgayHenTra ?? '',
    kenhNop: String(r.KenhThucHien)
  }
}

/** A dossier submitted at the ministry itself, as a HoSo for the ledger and DVCQG. */
export function toHoSo (g: GplxRecord): HoSo {
  const state = statusMap[g.trangThai]
  const record: HoSo = {
    MaHoSo: g.maHoSo,
    MaTTHC: g.maTTHC,
    TenTTHC: g.tenTTHC,
    KenhThucHien: '2',
    ChuHoSo: g.hoTen,
    LoaiDoiTuong: '1',
    TrangThaiHoSo: String(state) as HoSo['TrangThaiHoSo'],
    NgayTiepNhan: g.ngayTiepNhan,
    NgayHenTra: g.ngayHenTra,
    DonViXuLy: 'Hệ thống cấp giấy phép lái xe (Bộ Giao thông vận tải)'
  }
  if (/^[A-Za-z0-9]{6,20}$/.test(g.soCmnd)) record.SoGiayToChuHoSo = g.soCmnd
  if (state >= 9) record.NgayKetThucXuLy = g.ngayKetThuc ?? g.thoiDiemCapNhat
  if (state === 10) record.NgayTra = g.thoiDiemCapNhat
  if (state === 3) record.NgayTuChoi = g.thoiDiemCapNhat
  return record
}

/** One step at the ministry, as a progress entry. */
export function toProgress (maHoSo: string, step: GplxStep): QuaTrinhXuLy {
  return {
    MaHoSo: maHoSo,
    ThoiDiemXuLy: step.thoiDiem,
    TrangThai: statusMap[step.trangThai],
    NoiDungXuLy: `Hệ thống GPLX: ${statusText[step.trangThai]}`,
    PhongBanXuLy: 'Hệ thống cấp giấy phép lái xe'
  }
}
