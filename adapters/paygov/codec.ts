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
  QUERY: ['LoaiBanTin', 'PhienBan', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD'],
  /** The gateway's reply to a callback (`{MaLoi, MoTaLoi, MaDoiTac, ThoiGianGD, MaXacThuc}`). */
  IPN_REPLY: ['MaLoi', 'MoTaLoi', 'MaDoiTac', 'ThoiGianGD']
} as const

export type ChecksumKind = keyof typeof checksumOrder

/** `MaXacThuc` of a message: absent fields count as empty strings. */
export function checksum (kind: ChecksumKind, fields: Record<string, unknown>, secret: string): string {
  const parts = checksumOrder[kind].map((f) => fields[f] === undefined || fields[f] === null ? '' : String(fields[f]))
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

/** `MaLoi` of a callback: "00" is success. The gateway answers with these codes too. */
export const resultCodes = {
  success: '00',
  badChecksum: '01',
  unknownReference: '02',
  amountMismatch: '03',
  partnerOrCurrency: '04',
  malformed: '05',
  internal: '99'
} as const

/** `TrangThaiGD` of a QUERY reply. */
export const transactionStates = { success: '1', pending: '3', failed: '4' } as const

/** The payment URL inside INIT's reply: `{error_code: "0", message: "<JSON with UrlThanhToan>"}`. */
export function paymentUrlOf (reply: unknown): string | undefined {
  if (reply === null || typeof reply !== 'object') return undefined
  const r = reply as { error_code?: unknown, message?: unknown }
  if (String(r.error_code) !== '0' || typeof r.message !== 'string') return undefined
  try {
    const inner = JSON.parse(r.message) as { UrlThanhToan?: unknown }
    return typeof inner.UrlThanhToan === 'string' ? inner.UrlThanhToan : undefined
  } catch {
    return undefined
  }
}
