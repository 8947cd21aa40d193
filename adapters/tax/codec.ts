/**
 * The tax formats (pure functions).
 *
 * - The submission of a dossier's data (NopHoSo, the SOAP destination).
 * - The tax notice (thông báo thuế) as DVCQG pushes it to the province
 *   (`ImportThongBaoThueFromDVCQG`): JSON `{SecurityKey, Service, Ngay, IsUpdating,
 *   Data: {FileThongBaoThue}}`, the file being the notice XML in base64. The XML is
 *   `/DATA/BODY/ROW_LIST*`, each ROW_LIST one dossier (`MA_HSO`) with one `LIST` per line
 *   (`MA_SO_THUE, SO_QUYET_DINH, NGAY_QUYET_DINH` as dd-MM-yyyy, `TEN_TIEUMUC`, `SO_TIEN` a
 *   decimal number in invariant culture: "1500000", "1500000.00", "1,500,000.00").
 * - The tax receipt (chứng từ thuế, `ImportChungTuThueFromDVCQG`): plain JSON, `Data` with
 *   MaHoSo, MaSoThue, ThongTinThanhToan {SoTien, ThoiGianThanhToan yyyyMMddHHmmss,
 *   MaThongBaoThue, TrangThaiThanhToan 1 = paid, NoiDungThanhToan}, UrlFileChungTu and the
 *   payer's identity.
 *
 * The real importer turns an unreadable amount or date into 0 / DateTime.MinValue; here they
 * are refused instead (strict about meaning), and VND amounts with a non-zero fractional
 * part are refused too: the đồng has no minor unit, so "1500000.50" is a misread field.
 */
import { lgspError } from '../../gateway/errors.js'
import { formatDvcqgDate, isDvcqgDate } from '../../gateway/ledger/dates.js'
import type { HoSo, QuaTrinhXuLy } from '../../schemas/types.js'
import type { Notice } from '../types.js'

/** One line of a tax notice, as the gateway keeps it. */
export interface TaxNoticeRow {
  MA_HSO: string
  MA_SO_THUE: string
  SO_QUYET_DINH: string
  /** yyyyMMddHHmmss (Vietnam time), converted from the notice's dd-MM-yyyy. */
  NGAY_QUYET_DINH: string
  TEN_TIEUMUC: string
  /** Whole VND. */
  SO_TIEN: number
}

/** One ROW_LIST: the lines of one dossier. */
export interface TaxNoticeGroup {
  maHoSo: string
  rows: TaxNoticeRow[]
}

/** A tax receipt (ChungTuThue) as the gateway keeps it; the payer's identity stays in the logged body only. */
export interface TaxReceipt {
  MaHoSo: string
  MaSoThue: string
  MaThongBaoThue: string
  /** Whole VND. */
  SoTien: number
  /** yyyyMMddHHmmss, or undefined when the pusher left it empty. */
  ThoiGianThanhToan: string | undefined
  /** TrangThaiThanhToan 1. */
  paid: boolean
  NoiDungThanhToan: string
  UrlFileChungTu: string
}

/** NopHoSo's request for a dossier. */
export function toSubmission (r: HoSo): Record<string, string> {
  const out: Record<string, string> = {
    maHoSo: r.MaHoSo,
    maTTHC: r.MaTTHC,
    nguoiNop: r.ChuHoSo ?? '',
    ngayNop: r.NgayTiepNhan ?? r.NgayNopHoSo ?? ''
  }
  if (r.SoGiayToChuHoSo !== undefined) out.soGiayTo = r.SoGiayToChuHoSo
  if (r.TrichYeuHoSo !== undefined) out.trichYeu = r.TrichYeuHoSo
  return out
}

const invalid = (detail: string): never => { throw lgspError('LGSP_ERR_TAX_NOTICE_INVALID', detail) }

/**
 * A field of a JSON object, its name matched without regard to case: the pusher is an
 * ASP.NET service whose JSON binding ignores case, so `Data` and `data` both occur.
 */
export function field (o: unknown, name: string): unknown {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return undefined
  const rec = o as Record<string, unknown>
  if (name in rec) return rec[name]
  const lower = name.toLowerCase()
  const key = Object.keys(rec).find((k) => k.toLowerCase() === lower)
  return key === undefined ? undefined : rec[key]
}

/**
 * A VND amount: digits, optionally grouped by "," in threes, optionally a "." fraction
 * that must be all zeros (invariant culture, as the importer's double.TryParse reads it).
 */
export function parseAmount (value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined
  if (typeof value !== 'string') return undefined
  const m = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$/.exec(value.trim())
  if (m === null) return undefined
  if (m[2] !== undefined && /[1-9]/.test(m[2])) return undefined
  const digits = m[1]!.replace(/,/g, '').replace(/^0+(?=\d)/, '')
  if (digits.length > 15) return undefined
  return Number(digits)
}

/**
 * A notice date: dd-MM-yyyy as the notice writes it (also dd/MM/yyyy, an optional
 * " HH:mm[:ss]", or a DVCQG date), as yyyyMMddHHmmss in Vietnam time; undefined when it is
 * not a real calendar date.
 */
export function parseNoticeDate (value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const text = value.trim()
  const m = /^(\d{2})[-/](\d{2})[-/](\d{4})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text)
  const out = m === null
    ? (/^\d{8}$/.test(text) ? `${text}000000` : text)
    : `${m[3]}${m[2]}${m[1]}${m[4] ?? '00'}${m[5] ?? '00'}${m[6] ?? '00'}`
  return isDvcqgDate(out) ? out : undefined
}

const text = (v: unknown): string => typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : ''
const many = (v: unknown): unknown[] => Array.isArray(v) ? v : v === undefined || v === '' ? [] : [v]

/**
 * The base64 notice of a push body (`Data.FileThongBaoThue`), decoded to text. Refuses a
 * missing file, characters outside the base64 alphabet, a length no encoder produces, and
 * bytes that are not UTF-8.
 */
export function noticeFromPush (body: unknown): string {
  const file = field(field(body, 'Data'), 'FileThongBaoThue')
  if (typeof file !== 'string' || file.trim() === '') throw lgspError('LGSP_ERR_TAX_NOTICE_ENCODING', 'Data.FileThongBaoThue is missing: send the notice XML in base64.')
  const b64 = file.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 === 1) throw lgspError('LGSP_ERR_TAX_NOTICE_ENCODING')
  let xml: string
  try {
    xml = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(b64, 'base64'))
  } catch {
    throw lgspError('LGSP_ERR_TAX_NOTICE_ENCODING', 'The decoded notice is not UTF-8 text.')
  }
  return xml.replace(/^\uFEFF/, '')
}

/**
 * The dossiers and lines of a parsed notice (`parseXmlSafely(xml, { root: 'DATA' })`).
 * Each `ROW_LIST` names its dossier in `MA_HSO` and carries `LIST` lines; the SOAP
 * service's older shape (`ROW` lines each with its own MA_HSO) is read too. Lines of the
 * same dossier in several ROW_LISTs are merged. Any unusable line refuses the whole notice.
 */
export function noticeGroups (doc: Record<string, unknown>): TaxNoticeGroup[] {
  const lists = many((doc.BODY as Record<string, unknown> | undefined)?.ROW_LIST)
  if (lists.length === 0) invalid('The notice has no /DATA/BODY/ROW_LIST.')
  const groups = new Map<string, TaxNoticeRow[]>()
  lists.forEach((list, i) => {
    const l = (list ?? {}) as Record<string, unknown>
    const own = text(l.MA_HSO)
    const lines = [...many(l.LIST), ...many(l.ROW)]
    if (lines.length === 0) invalid(`ROW_LIST ${i + 1} has no LIST line.`)
    lines.forEach((line, j) => {
      const r = (line ?? {}) as Record<string, unknown>
      const where = `ROW_LIST ${i + 1}, line ${j + 1}`
      const maHoSo = own !== '' ? own : text(r.MA_HSO)
      if (maHoSo === '') invalid(`${where}: MA_HSO is missing.`)
      const amount = parseAmount(typeof r.SO_TIEN === 'string' ? r.SO_TIEN : undefined)
      if (amount === undefined) invalid(`${where}: SO_TIEN must be a whole VND amount (e.g. 1500000 or 1500000.00).`)
      const date = parseNoticeDate(r.NGAY_QUYET_DINH)
      if (date === undefined) invalid(`${where}: NGAY_QUYET_DINH must be a date dd-MM-yyyy.`)
      const decision = text(r.SO_QUYET_DINH)
      const item = text(r.TEN_TIEUMUC)
      if (decision === '' || item === '') invalid(`${where}: SO_QUYET_DINH and TEN_TIEUMUC are required.`)
      const rows = groups.get(maHoSo) ?? []
      rows.push({ MA_HSO: maHoSo, MA_SO_THUE: text(r.MA_SO_THUE), SO_QUYET_DINH: decision, NGAY_QUYET_DINH: date!, TEN_TIEUMUC: item, SO_TIEN: amount! })
      groups.set(maHoSo, rows)
    })
  })
  return [...groups].map(([maHoSo, rows]) => ({ maHoSo, rows }))
}

/** The lines of a parsed notice for one dossier (the SOAP poller's question), or undefined when it has none. */
export function noticeRows (doc: Record<string, unknown>, maHoSo: string): TaxNoticeRow[] | undefined {
  return noticeGroups(doc).find((g) => g.maHoSo === maHoSo)?.rows
}

/** The tax component's message kind: a notice of amounts to pay. */
export const TAX_NOTICE = 'tax-notice'

/**
 * One dossier's tax notice as the gateway accepts it: the dossier moves to 6 "yêu cầu thực
 * hiện nghĩa vụ tài chính", each line becomes a fee line (LoaiPhiLePhi "Thuế") the one-stop
 * may later ask to pay, and the progress entry says what was decided. The same dossier and
 * decision numbers are the same notice, however it arrives (poll or push).
 */
export function taxNotice (maHoSo: string, rows: readonly TaxNoticeRow[], raw: string, at: number): Notice {
  const total = rows.reduce((a, r) => a + r.SO_TIEN, 0)
  const decisions = [...new Set(rows.map((r) => r.SO_QUYET_DINH))].join(', ')
  const vnd = (n: number): string => `${n.toLocaleString('vi-VN')} đồng`
  const entry: QuaTrinhXuLy = {
    MaHoSo: maHoSo,
    ThoiDiemXuLy: formatDvcqgDate(at),
    TrangThai: 6,
    NoiDungXuLy: `Thông báo thuế ${decisions}: ${rows.map((r) => `${r.TEN_TIEUMUC} ${vnd(r.SO_TIEN)}`).join('; ')}; tổng ${vnd(total)}`.slice(0, 4000),
    PhongBanXuLy: 'Cơ quan thuế'
  }
  return {
    kind: TAX_NOTICE,
    maHoSo,
    entry,
    fees: rows.map((r) => ({ TenPhiLePhi: r.TEN_TIEUMUC, MaPhiLePhi: r.SO_QUYET_DINH, Gia: r.SO_TIEN, LoaiPhiLePhi: 'Thuế' })),
    body: { rows: rows.map((r) => ({ ...r })), total },
    raw,
    identity: `${maHoSo}\n${decisions}`
  }
}

/** A receipt push body (`ImportChungTuThueFromDVCQG`), checked. */
export function receiptFromPush (body: unknown): TaxReceipt {
  const data = field(body, 'Data')
  const pay = field(data, 'ThongTinThanhToan')
  const maHoSo = text(field(data, 'MaHoSo'))
  if (maHoSo === '') invalid('Data.MaHoSo is missing.')
  const amount = parseAmount(field(pay, 'SoTien'))
  if (amount === undefined) invalid('Data.ThongTinThanhToan.SoTien must be a whole VND amount.')
  const at = text(field(pay, 'ThoiGianThanhToan'))
  if (at !== '' && !isDvcqgDate(at)) invalid('Data.ThongTinThanhToan.ThoiGianThanhToan must be yyyyMMddHHmmss.')
  const status = text(field(pay, 'TrangThaiThanhToan'))
  return {
    MaHoSo: maHoSo,
    MaSoThue: text(field(data, 'MaSoThue')),
    MaThongBaoThue: text(field(pay, 'MaThongBaoThue')),
    SoTien: amount!,
    ThoiGianThanhToan: at === '' ? undefined : at,
    paid: status === '1',
    NoiDungThanhToan: text(field(pay, 'NoiDungThanhToan')),
    UrlFileChungTu: text(field(data, 'UrlFileChungTu'))
  }
}

const esc = (v: string | number): string => String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** dd-MM-yyyy of a yyyyMMdd… date, as the notice writes it. */
const noticeDate = (d: string): string => /^\d{8}/.test(d) ? `${d.slice(6, 8)}-${d.slice(4, 6)}-${d.slice(0, 4)}` : d

/**
 * Builds a notice document in the pushed shape (the simulators' and tests'): one ROW_LIST
 * per dossier, one LIST per line, dates dd-MM-yyyy, amounts with two decimals.
 */
export function noticeXml (rows: readonly TaxNoticeRow[]): string {
  const byDossier = new Map<string, TaxNoticeRow[]>()
  for (const r of rows) byDossier.set(r.MA_HSO, [...byDossier.get(r.MA_HSO) ?? [], r])
  const lists = [...byDossier].map(([maHoSo, lines]) => `<ROW_LIST><MA_HSO>${esc(maHoSo)}</MA_HSO>${lines.map((r) =>
    `<LIST><MA_SO_THUE>${esc(r.MA_SO_THUE)}</MA_SO_THUE><SO_QUYET_DINH>${esc(r.SO_QUYET_DINH)}</SO_QUYET_DINH><NGAY_QUYET_DINH>${esc(noticeDate(r.NGAY_QUYET_DINH))}</NGAY_QUYET_DINH>` +
    `<TEN_TIEUMUC>${esc(r.TEN_TIEUMUC)}</TEN_TIEUMUC><SO_TIEN>${r.SO_TIEN}.00</SO_TIEN></LIST>`).join('')}</ROW_LIST>`).join('')
  return `<?xml version="1.0" encoding="UTF-8"?><DATA><HEADER><VERSION>1.0</VERSION></HEADER><BODY>${lists}</BODY></DATA>`
}

/** The JSON DVCQG pushes for a notice document. */
export function noticePushBody (xml: string, securityKey: string, ngay: string): Record<string, unknown> {
  return { SecurityKey: securityKey, Service: 'ThongBaoThue', Ngay: ngay, IsUpdating: 'False', Data: { FileThongBaoThue: Buffer.from(xml, 'utf8').toString('base64') } }
}
