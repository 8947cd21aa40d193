import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { projectRoot } from '../../gateway/paths.js'
import { assertMove, canMove, stateNames, transitions, type DossierState } from '../../gateway/ledger/state-machine.js'
import { LgspError } from '../../gateway/errors.js'

const states = Object.keys(stateNames).map(Number) as DossierState[]

t.test('final states allow no move', async (t) => {
  for (const s of [3, 7, 8, 10] as const) t.same(transitions[s], [], `${s} ${stateNames[s]} is final`)
})

t.test('the supplement loop: 4 → 5 → 4', async (t) => {
  t.ok(canMove(4, 5))
  t.ok(canMove(5, 4))
  t.notOk(canMove(5, 9), 'no result while waiting for a supplement')
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
