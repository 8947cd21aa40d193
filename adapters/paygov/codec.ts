/**
 * PayGov (national payment platform) protocol 1.0.6, pure functions. Every message carries
 * `MaXacThuc`: lowercase hex SHA-256 of the listed fields joined by `|`, with the partner's
 * secret appended as the last field. The orders below are PayGov's.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

export const PROTOCOL_VERSION = '1.0.6'

/** Field orders of each checksum (the secret follows the last field). */
export const checksumOrder = {
  INIT: ['LoaiBanTin', 'PhienBan', 'MaDoiTac', 'MaThamChieu', 'SoTien', 'LoaiHinhThanhToan', 'MaKenhThanhToan', 'MaThietBi', 'NgonNgu', 'MaTienTe', 'MaNganHang', 'ThongTinGiaoDich', 'ThoiGianGD', 'Ip'],
  /** The payment-result callback (IPN); a QUERY reply carries the same fields plus TrangThaiGD and is signed the same way. */
  IPN: ['LoaiBanTin', 'MaLoi', 'MaDoiTac', 'MaThamChieu', 'SoTien', 'MaTienTe', 'MaGiaoDich', 'MaNganHang', 'ThoiGianGD', 'ThongTinGiaoDich'],
  QUERY: ['LoaiBanTin', 'PhienBan', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD']
} as const

export type ChecksumKind = keyof typeof checksumOrder

/**
 * A field as it enters the checksum: its string form exactly as sent or received (a
 * `SoTien` of 135000 and of "135000" both read "135000"); absent or null is empty.
 */
export function fieldText (value: unknown): string {
  return value === undefined || value === null ? '' : String(value)
}

/** `MaXacThuc` of a message. */
export function checksum (kind: ChecksumKind, fields: Record<string, unknown>, secret: string): string {
  const parts = checksumOrder[kind].map((f) => fieldText(fields[f]))
  return createHash('sha256').update([...parts, secret].join('|'), 'utf8').digest('hex')
}

/** Constant-time check of a message's `MaXacThuc`. */
export function checksumMatches (kind: ChecksumKind, fields: Record<string, unknown>, secret: string): boolean {
  const given = typeof fields.MaXacThuc === 'string' ? fields.MaXacThuc.toLowerCase() : ''
  const expected = checksum(kind, fields, secret)
  if (!/^[0-9a-f]{64}$/.test(given)) return false
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(expected, 'hex'))
}

/** Signs a message: returns it with `MaXacThuc`. */
export function sign<T extends Record<string, unknown>> (kind: ChecksumKind, fields: T, secret: string): T & { MaXacThuc: string } {
  return { ...fields, MaXacThuc: checksum(kind, fields, secret) }
}

/**
 * `MaLoi`: in a callback or a QUERY reply "00" is success (any other code is a failure or a
 * refusal). In the partner's reply to a callback, as partners answer it, "00" means the
 * callback was taken and "99" that it was refused.
 */
export const resultCodes = { success: '00', refused: '99' } as const

/** `TrangThaiGD` of a QUERY reply. */
export const transactionStates = { success: '1', pending: '3', failed: '4' } as const

/** INIT's `NgonNgu` as partners send it, from the one-stop's short or full form. */
export const languages = { vi: 'vi-VN', en: 'en-US', 'vi-VN': 'vi-VN', 'en-US': 'en-US' } as const

/**
 * A whole-VND amount sent as a string or a number (`SoTien`, fee `Gia`): its value, or
 * undefined when it is not a non-negative whole number written plainly.
 */
export function amountOf (value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined
  if (typeof value === 'string' && /^[0-9]{1,15}$/.test(value)) return Number(value)
  return undefined
}

/**
 * The payment URL inside INIT's reply: `{error_code: "0", message: "<JSON with UrlThanhToan>"}`.
 * Partners parse `message` as a JSON string; an object there is taken too.
 */
export function paymentUrlOf (reply: unknown): string | undefined {
  if (reply === null || typeof reply !== 'object') return undefined
  const r = reply as { error_code?: unknown, message?: unknown }
  if (String(r.error_code) !== '0') return undefined
  let inner: unknown = r.message
  if (typeof inner === 'string') {
    try {
      inner = JSON.parse(inner)
    } catch {
      return undefined
    }
  }
  if (inner === null || typeof inner !== 'object') return undefined
  const url = (inner as { UrlThanhToan?: unknown }).UrlThanhToan
  return typeof url === 'string' && url.length > 0 ? url : undefined
}

/** A fee line as INIT's receipt block carries it (amount as a string, as partners send it). */
export interface ReceiptFee {
  LoaiPhiLePhi: string
  MaPhiLePhi: string
  TenPhiLePhi: string
  SoTien: string
}

/** One payable item (`DSKhoanNop`): what is paid and how much, as a string. */
export interface PayableItem {
  NoiDung: string
  SoTien: string
}

/**
 * INIT's receipt block `ThongTinBienLai` with every key partners send (unused ones empty:
 * the fine-related keys serve traffic fines, not dossier fees).
 */
export interface ThongTinBienLai {
  MaDichVu: string
  MaDVC: string
  TenDVC: string
  MaTTHC: string
  TenTTHC: string
  MaDonVi: string
  TenDonVi: string
  MaHoSo: string
  TKThuHuong: string
  MaNHThuHuong: string
  TenTKThuHuong: string
  MaLoaiHinhThuPhat: string
  TenLoaiHinhThuPhat: string
  MaCoQuanQD: string
  TenCoQuanQD: string
  KhoBac: string
  NgayQD: string
  SoQD: string
  ThoiGianViPham: string
  DiaDiemViPham: string
  TenNguoiViPham: string
  TaiKhoanThuNSNN: string
  NoiDungThanhToan: string
  HoTenNguoiNop: string
  SoCMNDNguoiNop: string
  DiaChiNguoiNop: string
  HuyenNguoiNop: string
  TinhNguoiNop: string
  PhiLePhi: ReceiptFee[]
  DSKhoanNop: PayableItem[]
}

/** What the receipt block is built from. */
export interface ReceiptFacts {
  serviceCode: string
  maHoSo: string
  maTTHC: string
  maDonVi: string
  description: string
  fees: ReadonlyArray<{ TenPhiLePhi: string, MaPhiLePhi?: string, LoaiPhiLePhi?: string, Gia: number }>
  beneficiary?: { TKThuHuong: string, MaNHThuHuong: string, TenTKThuHuong: string } | undefined
  /** Optional texts; personal data (payer) included: callers never log them. */
  names: Partial<Pick<ThongTinBienLai, 'MaDVC' | 'TenDVC' | 'TenTTHC' | 'TenDonVi' | 'HoTenNguoiNop' | 'SoCMNDNguoiNop' | 'DiaChiNguoiNop' | 'HuyenNguoiNop' | 'TinhNguoiNop'>>
}

/** Procedure names longer than this are cut: catalogue names run past 500 characters and partners cut them near 250. */
const NAME_MAX = 250

const cut = (s: string | undefined): string => s === undefined ? '' : s.length > NAME_MAX ? `${s.slice(0, NAME_MAX - 1)}…` : s

/** Builds `ThongTinBienLai`: one `PhiLePhi` and one `DSKhoanNop` item per fee line, amounts as strings. */
export function receiptOf (f: ReceiptFacts): ThongTinBienLai {
  const n = f.names
  const tenTTHC = cut(n.TenTTHC)
  return {
    MaDichVu: f.serviceCode,
    MaDVC: n.MaDVC ?? '',
    TenDVC: n.TenDVC === undefined ? tenTTHC : cut(n.TenDVC),
    MaTTHC: f.maTTHC,
    TenTTHC: tenTTHC,
    MaDonVi: f.maDonVi,
    TenDonVi: n.TenDonVi ?? '',
    MaHoSo: f.maHoSo,
    TKThuHuong: f.beneficiary?.TKThuHuong ?? '',
    MaNHThuHuong: f.beneficiary?.MaNHThuHuong ?? '',
    TenTKThuHuong: f.beneficiary?.TenTKThuHuong ?? '',
    MaLoaiHinhThuPhat: '',
    TenLoaiHinhThuPhat: '',
    MaCoQuanQD: '',
    TenCoQuanQD: '',
    KhoBac: '',
    NgayQD: '',
    SoQD: '',
    ThoiGianViPham: '',
    DiaDiemViPham: '',
    TenNguoiViPham: '',
    TaiKhoanThuNSNN: '',
    NoiDungThanhToan: f.description,
    HoTenNguoiNop: n.HoTenNguoiNop ?? '',
    SoCMNDNguoiNop: n.SoCMNDNguoiNop ?? '',
    DiaChiNguoiNop: n.DiaChiNguoiNop ?? '',
    HuyenNguoiNop: n.HuyenNguoiNop ?? '',
    TinhNguoiNop: n.TinhNguoiNop ?? '',
    PhiLePhi: f.fees.map((l) => ({ LoaiPhiLePhi: l.LoaiPhiLePhi ?? '', MaPhiLePhi: l.MaPhiLePhi ?? '', TenPhiLePhi: l.TenPhiLePhi, SoTien: String(l.Gia) })),
    DSKhoanNop: f.fees.filter((l) => l.Gia > 0).map((l) => ({ NoiDung: l.TenPhiLePhi, SoTien: String(l.Gia) }))
  }
}
