/**
 * The working calendar: which days count when a statutory duration is given in working days
 * (when a dossier has no NgayHenTra). Weekends, public holidays and make-up working days
 * (ngày làm bù) are configurable; days are Vietnam days (UTC+7).
 */

import { vnDate } from './dates.js'

const VN = 7 * 3600_000
const DAY = 24 * 3600_000

export interface CalendarSettings {
  /** Week days that are not working days: 0 Sunday … 6 Saturday. */
  weekend: number[]
  /** Public holidays, yyyy-MM-dd. */
  holidays: string[]
  /** Make-up working days that fall on a weekend, yyyy-MM-dd. */
  workingDays: string[]
}

export const defaultCalendar: CalendarSettings = { weekend: [0, 6], holidays: [], workingDays: [] }

export class WorkingCalendar {
  readonly #weekend: Set<number>
  readonly #holidays: Set<string>
  readonly #working: Set<string>

  constructor (s: CalendarSettings = defaultCalendar) {
    this.#weekend = new Set(s.weekend)
    this.#holidays = new Set(s.holidays)
    this.#working = new Set(s.workingDays)
  }

  isWorkingDay (ms: number): boolean {
    const key = vnDate(ms)
    if (this.#working.has(key)) return true
    if (this.#holidays.has(key)) return false
    return !this.#weekend.has(new Date(ms + VN).getUTCDay())
  }

  /** `days` working days after `from`, at the same time of day (0 days: `from` itself). */
  addWorkingDays (from: number, days: number): number {
    let t = from
    let left = days
    while (left > 0) {
      t += DAY
      if (this.isWorkingDay(t)) left--
    }
    return t
  }
}
