/**
 * DVCQG wire format (pure functions). Integration calls are
 * `POST {base}{integration}` with `{session, madonvi, service, ...}`; replies are
 * `{error_code, message}` where 0 or "0" is success.
 */
import type { HoSo, QuaTrinhXuLy } from '../../schemas/types.js'

export const services = {
  syncDossier: 'DongBoHoSoMC',
  updateProgress: 'CapNhatTienDoHoSoMC',
  lookUp: 'TraCuuHoSo'
} as const

/**
 * Reply classes. DVCQG says what went wrong in `message` more reliably than in
 * `error_code`, so each class is recognised by its code or its wording.
 */
export type ReplyClass = 'ok' | 'session' | 'exists' | 'missing' | 'busy' | 'rejected'

/** The error codes and messages DVCQG answers with (the simulator answers the same). */
export const replyTable: Record<Exclude<ReplyClass, 'ok'>, { code: number, message: string, pattern: RegExp }> = {
  session: { code: -2, message: 'Session không hợp lệ hoặc đã hết hạn', pattern: /session|phiên (làm việc|đăng nhập)/i },
  exists: { code: -3, message: 'Hồ sơ đã tồn tại', pattern: /đã tồn tại|already exist/i },
  missing: { code: -4, message: 'Hồ sơ không tồn tại', pattern: /không tồn tại|not found|does not exist/i },
  busy: { code: -5, message: 'Hệ thống đang quá tải, vui lòng thử lại sau', pattern: /quá tải|thử lại sau|busy/i },
  rejected: { code: -1, message: 'Dữ liệu không hợp lệ', pattern: /$^/ }
}

export interface DvcqgReply {
  cls: ReplyClass
  errorCode: string
  message: string
  data: unknown
}

/** Classifies a parsed reply body; undefined when it is not a DVCQG reply at all. */
export function classifyReply (body: unknown): DvcqgReply | undefined {
  if (body === null || typeof body !== 'object' || !('error_code' in body)) return undefined
  const b = body as { error_code: unknown, message?: unknown, data?: unknown, session?: unknown }
  const errorCode = String(b.error_code)
  const message = typeof b.message === 'string' ? b.message : ''
  const data = b.data ?? b.session
  if (errorCode === '0') return { cls: 'ok', errorCode, message, data }
  for (const cls of ['session', 'exists', 'missing', 'busy'] as const) {
    const row = replyTable[cls]
    if (errorCode === String(row.code) || row.pattern.test(message)) return { cls, errorCode, message, data }
  }
  return { cls: 'rejected', errorCode, message, data }
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
