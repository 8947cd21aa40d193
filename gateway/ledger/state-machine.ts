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
 * - 5 "yêu cầu bổ sung" returns to 4 when the supplement arrives (or the citizen withdraws, 7).
 * - 6 "nghĩa vụ tài chính" returns to 4 once paid; 9 directly when paying was the last step.
 * - 2 may go straight to 9 for procedures resolved on the spot.
 */
export const transitions: Readonly<Record<DossierState, readonly DossierState[]>> = {
  1: [2, 3, 7],
  2: [4, 5, 6, 7, 8, 9],
  3: [],
  4: [5, 6, 7, 8, 9],
  5: [4, 7, 8],
  6: [4, 7, 8, 9],
  7: [],
  8: [],
  9: [10],
  10: []
}

/** The states a dossier may be created in (the first message the gateway sees of it). */
export const initialStates: readonly DossierState[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]

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
