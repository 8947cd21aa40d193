/**
 * The tax service's formats (pure functions): the submission of a dossier's data, and the
 * tax notice (thông báo thuế), an XML document `/DATA/BODY/ROW_LIST/ROW` with MA_HSO,
 * MA_SO_THUE, SO_QUYET_DINH, NGAY_QUYET_DINH, TEN_TIEUMUC, SO_TIEN.
 */
import type { HoSo } from '../../schemas/types.js'

/** One line of a tax notice. */
export interface TaxNoticeRow {
  MA_HSO: string
  MA_SO_THUE: string
  SO_QUYET_DINH: string
  /** yyyyMMddHHmmss or yyyyMMdd as the tax system writes it. */
  NGAY_QUYET_DINH: string
  TEN_TIEUMUC: string
  /** Whole VND. */
  SO_TIEN: number
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

/** The rows of a parsed notice (`parseXmlSafely(xml, { root: 'DATA' })`) for one dossier; malformed rows are refused. */
export function noticeRows (doc: Record<string, unknown>, maHoSo: string): TaxNoticeRow[] | undefined {
  const list = ((doc.BODY as Record<string, unknown> | undefined)?.ROW_LIST as Record<string, unknown> | undefined)?.ROW
  const rows = (Array.isArray(list) ? list : list === undefined ? [] : [list]) as Array<Record<string, unknown>>
  const out: TaxNoticeRow[] = []
  for (const r of rows) {
    const amount = String(r.SO_TIEN ?? '')
    if (r.MA_HSO !== maHoSo || !/^\d{1,15}$/.test(amount) || typeof r.SO_QUYET_DINH !== 'string' || typeof r.TEN_TIEUMUC !== 'string') return undefined
    out.push({ MA_HSO: maHoSo, MA_SO_THUE: String(r.MA_SO_THUE ?? ''), SO_QUYET_DINH: r.SO_QUYET_DINH, NGAY_QUYET_DINH: String(r.NGAY_QUYET_DINH ?? ''), TEN_TIEUMUC: r.TEN_TIEUMUC, SO_TIEN: Number(amount) })
  }
  return out.length === 0 ? undefined : out
}

/** Builds a notice document (the simulator's, and tests'). */
export function noticeXml (rows: readonly TaxNoticeRow[]): string {
  const esc = (v: string | number): string => String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  const body = rows.map((r) => `<ROW>${(Object.keys(r) as Array<keyof TaxNoticeRow>).map((k) => `<${k}>${esc(r[k])}</${k}>`).join('')}</ROW>`).join('')
  return `<?xml version="1.0" encoding="UTF-8"?><DATA><HEADER><VERSION>1.0</VERSION></HEADER><BODY><ROW_LIST>${body}</ROW_LIST></BODY></DATA>`
}
