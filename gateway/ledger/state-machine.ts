/**
 * The dossier state machine over DVCQG's `TrangThaiHoSo` codes. The README carries the
 * same table; tests/ledger/state-machine.test.ts checks every pair.
 */
import { lgspError } from '../errors.js'

/** TrangThaiHoSo 1–10. */
export type DossierState = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10

/** Vietnamese names as DVCQG documents them. */
export const stateNames: Readonly<Record<DossierState, string>> = {
  1: 'mới đăng ký',
  2: 'được tiếp nhận',
  3: 'không được tiếp nhận',
  4: 'đang xử lý',
  5: 'yêu cầu bổ sung',
  6: 'yêu cầu thực hiện nghĩa vụ tài chính',
  7: 'công dân rút hồ sơ',
  8: 'dừng xử lý',
  9: 'đã xử lý xong',
  10: 'đã trả kết quả'
}

/**
 * Allowed moves. Staying in the same state is always allowed (an update of other fields,
 * or one more progress entry while processing). 3, 7, 8 and 10 are final.
 * A HoSo record is a snapshot of where the dossier is, and real one-stops skip the steps
 * they do not sync (one sends the record, then its whole QuaTrinhXuLy history from status
 * 2 "Tiếp nhận hồ sơ"), so every move forward is allowed: a dossier may
 * arrive first at 4 or 10, go from 4 to 10 in one combined "done and returned" push, or be
 * refused after reception (2, 4, 5, 6 → 3).
 * - 4, 5 and 6 are one stage: a supplement (5) or a financial obligation (6) returns to
 *   processing (4) and may be followed by another.
 * - 9 may go back to processing or to 8: one client reports 5/6/8 as "9" and re-sends the
 *   record as "4" when processing resumes; DVCQG keeps the latest record.
 * Impossible: back to 1 or 2, from 4–6 or 9 to 1/2, out of a final state, 9 to 3 or 7.
 */
export const transitions: Readonly<Record<DossierState, readonly DossierState[]>> = {
  1: [2, 3, 4, 5, 6, 7, 8, 9, 10],
  2: [3, 4, 5, 6, 7, 8, 9, 10],
  3: [],
  4: [3, 5, 6, 7, 8, 9, 10],
  5: [3, 4, 6, 7, 8, 9, 10],
  6: [3, 4, 5, 7, 8, 9, 10],
  7: [],
  8: [],
  9: [4, 5, 6, 8, 10],
  10: []
}

/**
 * How far along a state is: 1 registered, 2 received, 4–6 processing, 9 processed, then the
 * final states. A status behind the dossier's (a lower stage) is a re-sent or older report.
 */
const stage: Readonly<Record<DossierState, number>> = { 1: 0, 2: 1, 4: 2, 5: 2, 6: 2, 9: 3, 3: 4, 7: 4, 8: 4, 10: 4 }

/** Whether `to` is an earlier stage than `from` (a stale report, never a move). */
export const isBehind = (from: DossierState, to: DossierState): boolean => stage[to] < stage[from]

/** Whether `from → to` takes a dossier reported processed (9) back into processing or to 8. */
export const isReopen = (from: DossierState, to: DossierState): boolean => from === 9 && to !== 9 && to !== 10

/** Normalises a TrangThaiHoSo as sent (number or numeric string) to a state. */
export const toState = (v: number | string): DossierState => Number(v) as DossierState

/** Whether `from → to` is allowed. */
export const canMove = (from: DossierState, to: DossierState): boolean =>
  from === to || transitions[from].includes(to)

/** Throws LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION naming both states when the move is illegal. */
export function assertMove (maHoSo: string, from: DossierState, to: DossierState): void {
  if (canMove(from, to)) return
  throw lgspError('LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION',
    `Dossier ${maHoSo} cannot go from ${from} (${stateNames[from]}) to ${to} (${stateNames[to]}).`,
    { maHoSo, from, to, allowed: transitions[from] })
}
