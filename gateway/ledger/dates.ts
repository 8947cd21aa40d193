/**
 * DVCQG dates: `yyyyMMddHHmmss`, Asia/Ho_Chi_Minh (UTC+7, no daylight saving), 24-hour clock.
 */

const VN_OFFSET_MS = 7 * 3600_000
const SHAPE = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/

/** Epoch milliseconds of a DVCQG date, or undefined when it is not a real calendar time. */
export function parseDvcqgDate (text: string): number | undefined {
  const m = SHAPE.exec(text)
  if (m === null) return undefined
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  if (y < 1900 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined
  const utc = Date.UTC(y, mo - 1, d, h, mi, s)
  // Date.UTC rolls 31 April over to 1 May: a changed day means the date does not exist.
  if (new Date(utc).getUTCDate() !== d) return undefined
  return utc - VN_OFFSET_MS
}

/** Whether a string is a valid DVCQG date (the ajv format `dvcqg-datetime`). */
export const isDvcqgDate = (text: string): boolean => parseDvcqgDate(text) !== undefined

/** Formats epoch milliseconds as a DVCQG date in Vietnam time. */
export function formatDvcqgDate (ms: number): string {
  const d = new Date(ms + VN_OFFSET_MS)
  const p = (n: number, w = 2): string => String(n).padStart(w, '0')
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`
}
