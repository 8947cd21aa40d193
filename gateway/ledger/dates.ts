/**
 * Vietnam time, the gateway's one date/time module: Asia/Ho_Chi_Minh is UTC+7 with no
 * daylight saving, so a fixed offset is exact. It holds DVCQG dates (`yyyyMMddHHmmss`,
 * 24-hour clock), Vietnam calendar days and months, and the working calendar. Nothing else
 * in the gateway adds the offset itself.
 */

const VN_OFFSET_MS = 7 * 3600_000
const DAY_MS = 24 * 3600_000

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

/** The month (yyyy-MM) in Vietnam at `ms`. */
export const vnMonth = (ms: number = Date.now()): string => new Date(ms + VN_OFFSET_MS).toISOString().slice(0, 7)

/** Epoch milliseconds of 00:00 Vietnam time on the first day of a month (`month` 0–11; 12 is January of the next year). */
export const vnMonthStart = (year: number, month: number): number => Date.UTC(year, month, 1) - VN_OFFSET_MS

/**
 * The working calendar's settings: which days count when a statutory duration is given in
 * working days (when a dossier has no NgayHenTra). Weekends, public holidays and make-up
 * working days (ngày làm bù) are configurable; days are Vietnam days.
 */
export interface CalendarSettings {
  /** Week days that are not working days: 0 Sunday … 6 Saturday. */
  weekend: number[]
  /** Public holidays, yyyy-MM-dd. */
  holidays: string[]
  /** Make-up working days that fall on a weekend, yyyy-MM-dd. */
  workingDays: string[]
}

export const defaultCalendar: CalendarSettings = { weekend: [0, 6], holidays: [], workingDays: [] }

/** Working days in Vietnam: `isWorkingDay` and `addWorkingDays` over the configured calendar. */
export class WorkingCalendar {
  readonly #weekend: Set<number>
  readonly #holidays: Set<string>
  readonly #working: Set<string>

  constructor (settings: CalendarSettings = defaultCalendar) {
    this.#weekend = new Set(settings.weekend)
    this.#holidays = new Set(settings.holidays)
    this.#working = new Set(settings.workingDays)
  }

  isWorkingDay (ms: number): boolean {
    const key = vnDate(ms)
    if (this.#working.has(key)) return true
    if (this.#holidays.has(key)) return false
    return !this.#weekend.has(new Date(ms + VN_OFFSET_MS).getUTCDay())
  }

  /**
   * The working days after `from`'s day that had begun by `to`: how late a dossier is in the
   * unit the law counts in. A period judged at its end (midnight) does not count the next day.
   */
  workingDaysAfter (from: number, to: number): number {
    let n = 0
    for (let day = Math.floor((from + VN_OFFSET_MS) / DAY_MS) * DAY_MS - VN_OFFSET_MS + DAY_MS; day < to; day += DAY_MS) if (this.isWorkingDay(day)) n++
    return n
  }

  /** `days` working days after `from`, at the same time of day (0 days: `from` itself). */
  addWorkingDays (from: number, days: number): number {
    let t = from
    let left = days
    while (left > 0) {
      t += DAY_MS
      if (this.isWorkingDay(t)) left--
    }
    return t
  }
}
