/**
 * DVCQG wire format (pure functions). Integration calls are
 * `POST {base}{integration}` with `{session, madonvi, service, ...}` and a `dstcode`
 * header; replies are `{error_code, message}` where 0, "0" or "00" is success (the portal
 * answers "00"), and look-ups carry their rows in `result` (`[]` = nothing found).
 */
import type { HoSo, QuaTrinhXuLy } from '../../schemas/types.js'

export const services = {
  syncDossier: 'DongBoHoSoMC',
  updateProgress: 'CapNhatTienDoHoSoMC',
  lookUp: 'TraCuuHoSo',
  /** `{type: "2", data: {MaHoSo, TrangThai, ...}}`: the dossier's status alone. */
  syncStatus: 'DongBoTrangThaiHoSo',
  /** Catalogue reads (the "sharing" services): one procedure by `maTTHC`, every procedure, every agency. */
  procedure: 'LayThuTuc',
  procedures: 'LayDanhSachTTHC',
  agencies: 'LayDanhMucCoQuan'
} as const

/**
 * Reply classes. DVCQG says what went wrong in `message` more reliably than in
 * `error_code`, so each class is recognised by its code or its wording.
 */
export type ReplyClass = 'ok' | 'session' | 'exists' | 'missing' | 'busy' | 'rejected'

/** The error codes and messages DVCQG answers with (the simulator answers the same). */
export const replyTable: Record<Exclude<ReplyClass, 'ok'>, { code: string, message: string, pattern: RegExp }> = {
  session: { code: '-2', message: 'Session không hợp lệ hoặc đã hết hạn', pattern: /session|phiên (làm việc|đăng nhập)/i },
  exists: { code: '-3', message: 'Hồ sơ đã tồn tại', pattern: /đã tồn tại|already exist/i },
  missing: { code: '-4', message: 'Hồ sơ không tồn tại', pattern: /không tồn tại|not found|does not exist/i },
  busy: { code: '-5', message: 'Hệ thống đang quá tải, vui lòng thử lại sau', pattern: /quá tải|thử lại sau|busy/i },
  rejected: { code: '-1', message: 'Dữ liệu không hợp lệ', pattern: /$^/ }
}

/** The success codes: the documented 0 / "0" and the "00" the portal actually answers. */
export const isSuccessCode = (code: unknown): boolean => code === 0 || code === '0' || code === '00'

export interface DvcqgReply {
  cls: ReplyClass
  errorCode: string
  message: string
  /** `data`, or the login's `session`. */
  data: unknown
  /** The rows of a look-up (TraCuuHoSo, catalogue services); undefined when the reply has none. */
  result: unknown[] | undefined
}

/** Classifies a parsed reply body; undefined when it is not a DVCQG reply at all. */
export function classifyReply (body: unknown): DvcqgReply | undefined {
  if (body === null || typeof body !== 'object' || !('error_code' in body)) return undefined
  const b = body as { error_code: unknown, message?: unknown, data?: unknown, session?: unknown, result?: unknown }
  const errorCode = String(b.error_code)
  const message = typeof b.message === 'string' ? b.message : ''
  const data = b.data ?? b.session
  const result = Array.isArray(b.result) ? b.result as unknown[] : undefined
  if (isSuccessCode(b.error_code)) return { cls: 'ok', errorCode, message, data, result }
  for (const cls of ['session', 'exists', 'missing', 'busy'] as const) {
    const row = replyTable[cls]
    if (errorCode === row.code || row.pattern.test(message)) return { cls, errorCode, message, data, result }
  }
  return { cls: 'rejected', errorCode, message, data, result }
}

/** DVCQG takes codes and flags as strings ("1", "0"). */
const asString = (v: unknown): unknown => typeof v === 'number' ? String(v) : v

const codedFields = ['KenhThucHien', 'LoaiDoiTuong', 'TrangThaiHoSo', 'HoSoCoThanhPhanSoHoa', 'TaiKhoanDuocXacThucVoiVNeID', 'DuocThanhToanTrucTuyen'] as const
const fileFlags = ['DuocSoHoa', 'DuocTaiSuDung', 'DuocLayTuKhoDMQG'] as const

/** A HoSo as DongBoHoSoMC carries it. */
export function toWireHoSo (record: HoSo): Record<string, unknown> {
  const out: Record<string, unknown> = { ...record }
  for (const f of codedFields) if (out[f] !== undefined) out[f] = asString(out[f])
  if (record.TaiLieuNop !== undefined) {
    out.TaiLieuNop = record.TaiLieuNop.map((t) => {
      const file: Record<string, unknown> = { ...t }
      for (const f of fileFlags) if (file[f] !== undefined) file[f] = asString(file[f])
      return file
    })
  }
  return out
}

/** A QuaTrinhXuLy as CapNhatTienDoHoSoMC carries it. */
export function toWireProgress (entry: QuaTrinhXuLy): Record<string, unknown> {
  return { ...entry, TrangThai: asString(entry.TrangThai) }
}

/**
 * DongBoTrangThaiHoSo's `data` for a progress entry: the fields public clients send
 * (`MaHoSo`, `TrangThai`, `NgayXuLy` as yyyyMMddHHmmss, `NoiDung`, `TaiLieuXuLy`), plus
 * `TrangThaiHoSo`, the record's own name for the status, so a portal reading either finds it.
 */
export function toWireStatus (entry: QuaTrinhXuLy): Record<string, unknown> {
  const status = String(entry.TrangThai)
  const out: Record<string, unknown> = { MaHoSo: entry.MaHoSo, TrangThai: status, TrangThaiHoSo: status, NgayXuLy: entry.ThoiDiemXuLy, NoiDung: entry.NoiDungXuLy ?? '' }
  const files = (entry as { TaiLieuXuLy?: unknown }).TaiLieuXuLy
  if (Array.isArray(files)) out.TaiLieuXuLy = files
  return out
}

/** The status a DongBoTrangThaiHoSo `data` carries (either name), as a string. */
export const statusOf = (data: Record<string, unknown>): string | undefined => {
  const v = data.TrangThaiHoSo ?? data.TrangThai
  return v === undefined || v === null || v === '' ? undefined : String(v)
}

/** A procedure as DVCQG's catalogue services describe it (upper-case keys, as LayDanhSachTTHC / LayThuTuc answer). */
export interface DvcqgProcedure {
  MaTTHC: string
  TenTTHC: string
  MaLinhVuc?: string
  /** Fee-bearing, when DVCQG says. */
  CoPhiLePhi?: boolean
  /** Statutory duration in working days, when DVCQG says. */
  SoNgayGiaiQuyet?: number
}

/** An agency of LayDanhMucCoQuan (`MADONVI, TENDONVI, CAPDONVI`). */
export interface DvcqgAgency {
  MaDonVi: string
  TenDonVi: string
  CapDonVi?: string
}

const pick = (row: Record<string, unknown>, ...keys: string[]): unknown => {
  for (const k of keys) {
    const v = row[k] ?? row[k.toUpperCase()] ?? row[k.toLowerCase()]
    if (v !== undefined && v !== null && v !== '') return v
  }
  return undefined
}

/** Reads one catalogue row; undefined when it has no procedure code. Key case and number/string forms vary by client, so both are read. */
export function fromWireProcedure (row: unknown): DvcqgProcedure | undefined {
  if (row === null || typeof row !== 'object') return undefined
  const r = row as Record<string, unknown>
  const code = pick(r, 'MaTTHC')
  if (typeof code !== 'string' || code.trim() === '') return undefined
  const out: DvcqgProcedure = { MaTTHC: code.trim(), TenTTHC: String(pick(r, 'TenTTHC') ?? code).trim() }
  const field = pick(r, 'MaLinhVuc')
  if (field !== undefined) out.MaLinhVuc = String(field)
  const fee = pick(r, 'CoPhiLePhi', 'CoPhi')
  if (fee !== undefined) out.CoPhiLePhi = fee === true || fee === 1 || fee === '1' || fee === 'True' || fee === 'true'
  else {
    // LayThuTuc lists the fees (PHILEPHI / DanhSachLePhi); a list with a non-zero amount means fee-bearing.
    const fees = pick(r, 'PhiLePhi', 'DanhSachLePhi')
    if (Array.isArray(fees)) out.CoPhiLePhi = fees.some((f) => Number((f as Record<string, unknown>)?.Gia ?? (f as Record<string, unknown>)?.GIA ?? (f as Record<string, unknown>)?.SoTien ?? 0) > 0)
  }
  const days = Number(pick(r, 'SoNgayGiaiQuyet', 'ThoiGianGiaiQuyet'))
  if (Number.isInteger(days) && days >= 0 && days <= 365) out.SoNgayGiaiQuyet = days
  return out
}

/** Reads one LayDanhMucCoQuan row; undefined without an agency code. */
export function fromWireAgency (row: unknown): DvcqgAgency | undefined {
  if (row === null || typeof row !== 'object') return undefined
  const r = row as Record<string, unknown>
  const code = pick(r, 'MaDonVi')
  if (typeof code !== 'string' || code === '') return undefined
  const out: DvcqgAgency = { MaDonVi: code, TenDonVi: String(pick(r, 'TenDonVi') ?? code) }
  const level = pick(r, 'CapDonVi')
  if (level !== undefined) out.CapDonVi = String(level)
  return out
}

/** Canonical JSON (sorted keys) so two records can be compared for equality. */
export function canonical (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** What identifies one progress entry at DVCQG: the same dossier, time, status and content. */
export const progressKey = (e: Record<string, unknown>): string =>
  [e.MaHoSo, e.ThoiDiemXuLy, String(e.TrangThai), e.NoiDungXuLy].join('|')

/** Splits entries into chunks of at most n (CapNhatTienDoHoSoMC takes 10 at a time). */
export function chunk<T> (items: readonly T[], n: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n))
  return out
}
