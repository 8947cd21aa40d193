/**
 * What intake normalised or decided on a sender's behalf, reported back in every 202
 * (`warnings: [{code, path, message}]`) and counted per member, so a province can see how
 * clean its one-stop's data is. Like the error table: codes are never renamed or reused, and
 * the README lists them all (a test checks that). A warning never carries the value sent.
 */

/** One normalisation or decision, at a JSON pointer into the request body. */
export interface Warning {
  code: WarningCode
  /** JSON pointer into the body as sent (`/0/DanhSachLePhi/1/Gia`). */
  path: string
  message: string
}

/** Every warning code and what it means for the sender. */
export const warningTable = {
  LGSP_WARN_EMPTY_AS_ABSENT: 'An empty string or null was read as an absent value.',
  LGSP_WARN_TYPE_COERCED: 'The value had another JSON type (a numeric string, a number for text, a boolean or "True"/"False" for a flag) and was read as the type the field has.',
  LGSP_WARN_WHITESPACE_TRIMMED: 'Spaces around a code were removed.',
  LGSP_WARN_FIELD_UNKNOWN: 'A field the gateway does not know: kept and delivered unchanged.',
  LGSP_WARN_FIELD_MISSING: 'A field DVCQG expects is missing (TenTTHC, ChuHoSo or LoaiDoiTuong): the dossier is accepted; DVCQG may ask for it.',
  LGSP_WARN_CHANNEL_ABSENT: 'KenhThucHien is absent: the Decision 766 figures count the dossier as submitted in person.',
  LGSP_WARN_PROCEDURE_UNKNOWN: 'MaTTHC is not in the procedure catalogue yet: the dossier goes to the sender\'s destinations only, and the statutory duration is unknown until the catalogue has it.',
  LGSP_WARN_END_DATE_MISSING: 'A finished or refused dossier without its end date (NgayKetThucXuLy, NgayTra or NgayTuChoi): the end is taken from the progress entry that moved it there, or the time the record arrived until one does.',
  LGSP_WARN_STATUS_BEHIND: 'The record\'s TrangThaiHoSo is behind the dossier\'s (a re-sent or older record): its other fields were updated, the status was kept.',
  LGSP_WARN_STATUS_REOPENED: 'A dossier reported finished (9) is back in processing: its end is cleared until it finishes again.',
  LGSP_WARN_ENTRY_HISTORY: 'A progress entry older than the dossier\'s current status, or of an earlier stage, was kept as history without moving the status back.',
  LGSP_WARN_CONTROL_STRIPPED: 'Control characters (other than tab and line breaks) in a text field were removed; NUL is refused.',
  LGSP_WARN_ENTRY_REFUSED: 'A progress entry was refused on its own (see `outcomes`); the others were applied.'
} as const

export type WarningCode = keyof typeof warningTable

/** A warning with the table's message. */
export const warning = (code: WarningCode, path: string): Warning => ({ code, path, message: warningTable[code] })

/** At most this many warnings ride in one reply; `warningCounts` always has every one. */
export const MAX_REPLY_WARNINGS = 200

/** Counts per code, for the reply, the log and the per-member totals. */
export function countWarnings (warnings: readonly Warning[]): Partial<Record<WarningCode, number>> {
  const out: Partial<Record<WarningCode, number>> = {}
  for (const w of warnings) out[w.code] = (out[w.code] ?? 0) + 1
  return out
}

/**
 * Per-member totals of normalisations since the process started (GET /v1/admin/normalisations),
 * beside the per-request log line.
 */
export class WarningTally {
  /** When counting started (ISO time). */
  readonly since = new Date().toISOString()
  readonly #byMember = new Map<string, Partial<Record<WarningCode, number>>>()

  add (member: string, counts: Partial<Record<WarningCode, number>>): void {
    const t = this.#byMember.get(member) ?? {}
    for (const [code, n] of Object.entries(counts) as Array<[WarningCode, number]>) t[code] = (t[code] ?? 0) + n
    this.#byMember.set(member, t)
  }

  snapshot (): Record<string, Partial<Record<WarningCode, number>>> {
    return Object.fromEntries([...this.#byMember].map(([m, t]) => [m, { ...t }]))
  }
}
