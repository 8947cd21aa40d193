import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { projectRoot } from '../../gateway/paths.js'
import { assertMove, canMove, isBehind, isReopen, stateNames, transitions, type DossierState } from '../../gateway/ledger/state-machine.js'
import { LgspError } from '../../gateway/errors.js'

const states = Object.keys(stateNames).map(Number) as DossierState[]

t.test('final states allow no move', async (t) => {
  for (const s of [3, 7, 8, 10] as const) t.same(transitions[s], [], `${s} ${stateNames[s]} is final`)
})

t.test('the supplement loop: 4 → 5 → 4', async (t) => {
  t.ok(canMove(4, 5))
  t.ok(canMove(5, 4))
})

t.test('the moves real one-stops make are allowed, going back a stage is not', async (t) => {
  t.ok(canMove(4, 10), 'a combined "done and returned" push')
  t.ok(canMove(2, 3), 'refused after reception')
  t.ok(canMove(4, 3), 'refused while processing')
  t.ok(canMove(1, 4), 'a record arriving ahead of its progress')
  t.ok(canMove(9, 4), 'reported 9 for a supplement, processing resumes')
  t.ok(isReopen(9, 4))
  t.notOk(isReopen(9, 10))
  for (const [from, to] of [[4, 2], [10, 4], [9, 2], [5, 1], [9, 3], [9, 7], [10, 3], [3, 10], [7, 4]] as Array<[DossierState, DossierState]>) {
    t.notOk(canMove(from, to), `${from} → ${to}`)
  }
  t.ok(isBehind(10, 4), 'a status of an earlier stage is behind')
  t.notOk(isBehind(10, 3), 'two final states are not behind each other')
  t.notOk(isBehind(4, 5), '4, 5 and 6 are one stage')
})

t.test('every pair is decided by the table, staying put is always allowed', async (t) => {
  for (const from of states) {
    for (const to of states) t.equal(canMove(from, to), from === to || transitions[from].includes(to), `${from} → ${to}`)
  }
})

t.test('an illegal move names both states', async (t) => {
  const err = t.throws(() => assertMove('H56-1', 10, 4)) as unknown as LgspError
  t.equal(err.code, 'LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION')
  t.match(err.extra, { from: 10, to: 4 })
  t.match(err.message, /10 \(đã trả kết quả\) to 4 \(đang xử lý\)/)
})

t.test('the README carries the same transition table', async (t) => {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8')
  for (const s of states) {
    const row = new RegExp(`\\|\\s*${s}\\s*\\|\\s*${stateNames[s]}\\s*\\|\\s*${transitions[s].length === 0 ? '— \\(final\\)' : transitions[s].join(', ')}\\s*\\|`)
    t.match(readme, row, `README row for ${s}`)
  }
})
