/**
 * DVCQG dates: `yyyyMMddHHmmss`, Asia/Ho_Chi_Minh (UTC+7, no daylight saving), 24-hour clock.
 */

const VN_OFFSET_MS = 7 * 3600_000

/** The number written by `len` ASCII digits at `at`, or -1 (hot path: no regex, no allocation). */
function digits (text: string, at: number, len: number): number {
  let n = 0
  for (let i = at; i < at + len; i++) {
    const c = text.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    n = n * 10 + c
  }
  return n
}

/** Epoch milliseconds of a DVCQG date, or undefined when it is not a real calendar time. */
export function parseDvcqgDate (text: string): number | undefined {
  if (text.length !== 14) return undefined
  const y = digits(text, 0, 4)
  const mo = digits(text, 4, 2)
  const d = digits(text, 6, 2)
  const h = digits(text, 8, 2)
  const mi = digits(text, 10, 2)
  const s = digits(text, 12, 2)
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return undefined
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

/** The calendar date (yyyy-MM-dd) in Vietnam at `ms`. */
export const vnDate = (ms: number = Date.now()): string => new Date(ms + VN_OFFSET_MS).toISOString().slice(0, 10)
