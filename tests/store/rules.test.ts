/**
 * The store's business rules as pure functions (gateway/store/rules/): each decision on its
 * own, without a store. Both stores call these; tests/store/contract.ts checks that they
 * persist what the rules decide.
 */
import t from 'tap'
import { idempotencyHashOf, idempotencyVerdict, keyReused, replayOrRefuse } from '../../gateway/store/rules/idempotency.js'
import {
  anomalyKey, awaitsEffect, callbackKey, initTransition, isOpen, judgeCallback, judgeQueryAnswer, OPEN_STATUSES, paymentIndexes, queryAnomalyKey,
  resultTransition, settlementReport
} from '../../gateway/store/rules/payments.js'
import {
  byDestination, DEAD_PAGE, deadAfter, deadCursor, deadMatches, deadOrder, deadPage, parseDeadCursor, queueFigures, readDeadCursor, replayReset
} from '../../gateway/store/rules/dead-letters.js'
import type { CallbackAnomaly, DeadLetter, Payment, PaymentStatus } from '../../gateway/store/types.js'

const STATUSES: PaymentStatus[] = ['created', 'pending', 'init_failed', 'paid', 'failed']

t.test('idempotency: unused goes ahead, same content replays the first reply, other content is a conflict', async (t) => {
  t.same(idempotencyVerdict(undefined, 'h1'), { verdict: 'new' })
  t.same(idempotencyVerdict({ hash: 'h1', reply: { n: 1 } }, 'h1'), { verdict: 'replay', reply: { n: 1 } })
  t.same(idempotencyVerdict({ hash: 'h1', reply: { n: 1 } }, 'h2'), { verdict: 'conflict' })
  t.equal(replayOrRefuse(undefined, 'h1', 'message'), undefined, 'go ahead')
  t.same(replayOrRefuse({ hash: 'h1', reply: { n: 1 } }, 'h1', 'message'), { n: 1 }, 'the first reply')
  t.throws(() => replayOrRefuse({ hash: 'h1', reply: {} }, 'h2', 'payment request'),
    { code: 'LGSP_ERR_IDEMPOTENCY_KEY_REUSED', message: /different payment request/ })
  t.match(keyReused('message'), { code: 'LGSP_ERR_IDEMPOTENCY_KEY_REUSED', message: /different message/ })
  t.equal(idempotencyHashOf({ contentHash: 'c' }), 'c', 'a message is matched on its content')
  t.equal(idempotencyHashOf({ contentHash: 'c', idempotencyHash: 'ref' }), 'ref', 'a message the gateway makes on the hash it names')
})

t.test('payments: INIT moves only a payment with no result and no URL yet', async (t) => {
  const url = { url: 'https://pay/1' }
  const error = { error: 'LGSP_ERR_UPSTREAM_REJECTED' }
  t.same(STATUSES.map((s) => [s, initTransition(s, url), initTransition(s, error)]), [
    ['created', 'pending', 'init_failed'],
    ['pending', undefined, undefined],
    ['init_failed', 'pending', 'init_failed'],
    ['paid', undefined, undefined],
    ['failed', undefined, undefined]
  ])
})

t.test('payments: a success is final, a failure never undoes it, a repeat changes nothing', async (t) => {
  t.same(STATUSES.map((s) => [s, resultTransition(s, true), resultTransition(s, false)]), [
    ['created', { outcome: 'paid', status: 'paid' }, { outcome: 'failed', status: 'failed' }],
    ['pending', { outcome: 'paid', status: 'paid' }, { outcome: 'failed', status: 'failed' }],
    ['init_failed', { outcome: 'paid', status: 'paid' }, { outcome: 'failed', status: 'failed' }],
    ['paid', { outcome: 'unchanged' }, { outcome: 'unchanged' }],
    ['failed', { outcome: 'paid', status: 'paid' }, { outcome: 'unchanged' }]
  ])
  // Every order of up to four results (late, duplicated, out of order): paid once any success came, never twice.
  const sequences = (n: number): boolean[][] => n === 0 ? [[]] : sequences(n - 1).flatMap((s) => [[...s, true], [...s, false]])
  for (let n = 1; n <= 4; n++) {
    for (const results of sequences(n)) {
      let status: PaymentStatus = 'pending'
      let paidOutcomes = 0
      for (const success of results) {
        const r = resultTransition(status, success)
        if (r.outcome === 'paid') paidOutcomes++
        status = r.status ?? status
      }
      const label = results.map((s) => s ? 'ok' : 'fail').join(',')
      t.equal(status, results.includes(true) ? 'paid' : 'failed', label)
      t.equal(paidOutcomes, results.includes(true) ? 1 : 0, `${label}: the effect is applied once`)
    }
  }
})

t.test('payments: open, paid and awaiting-effect indexes follow the status', async (t) => {
  t.same(OPEN_STATUSES, ['created', 'pending', 'init_failed'])
  t.same(STATUSES.filter(isOpen), ['created', 'pending', 'init_failed'])
  t.equal(awaitsEffect({ status: 'paid', effectMessageId: null }), true)
  t.equal(awaitsEffect({ status: 'paid', effectMessageId: 'm' }), false)
  t.equal(awaitsEffect({ status: 'failed', effectMessageId: null }), false)
  t.same(paymentIndexes({ status: 'pending', effectMessageId: null }), { open: true, paid: false, awaitingEffect: false })
  t.same(paymentIndexes({ status: 'paid', effectMessageId: null }), { open: false, paid: true, awaitingEffect: true })
  t.same(paymentIndexes({ status: 'paid', effectMessageId: 'm' }), { open: false, paid: true, awaitingEffect: false })
  t.same(paymentIndexes({ status: 'failed', effectMessageId: null }), { open: false, paid: false, awaitingEffect: false })
})

t.test('payments: which callbacks are believed, and what the others are kept as', async (t) => {
  const payment = { amount: 135000, currency: '704' }
  const good = { partnerCode: 'P01', currency: '704', amount: 135000 }
  t.same(judgeCallback(payment, good, 'P01'), { apply: true, payment })
  t.same(judgeCallback(undefined, good, 'P01'), { apply: false, code: 'LGSP_ERR_CALLBACK_UNKNOWN_REFERENCE', anomaly: { kind: 'orphan', detail: 'no payment with this reference' } })
  t.match(judgeCallback(payment, { ...good, partnerCode: 'P02' }, 'P01'), { apply: false, code: 'LGSP_ERR_CALLBACK_PARTNER_MISMATCH', anomaly: { kind: 'mismatch', detail: 'partner P02 / currency 704' } })
  t.match(judgeCallback(payment, { ...good, currency: '840' }, 'P01'), { apply: false, code: 'LGSP_ERR_CALLBACK_PARTNER_MISMATCH', anomaly: { kind: 'mismatch' } })
  t.match(judgeCallback(payment, { ...good, amount: 1000 }, 'P01'), { apply: false, code: 'LGSP_ERR_CALLBACK_AMOUNT_MISMATCH', anomaly: { kind: 'mismatch', detail: 'amount 1000, expected 135000' } })
  t.match(judgeCallback(payment, { ...good, amount: Number.NaN }, 'P01'), { apply: false, code: 'LGSP_ERR_CALLBACK_AMOUNT_MISMATCH' }, 'an amount that is not a whole number')
  const c = { reference: 'R', transactionCode: 'T', resultCode: '00' }
  t.equal(callbackKey(c), 'R|T|00', 'a duplicate: same reference, transaction and result')
  t.equal(anomalyKey({ ...c, checksum: 'X' }), 'R|T|00|X', 'anomalies sharing reference and transaction are told apart by the checksum')
  t.equal(queryAnomalyKey('R', 'T'), 'R|T|query')
})

t.test('payments: what settlement does with a QUERY answer', async (t) => {
  const pending = { status: 'pending' as const, amount: 100 }
  const lostInit = { status: 'init_failed' as const, amount: 100 }
  t.same(judgeQueryAnswer(pending, { state: 'processing', amount: 0 }), { apply: false }, 'still processing')
  t.same(judgeQueryAnswer(pending, { state: 'success', amount: 100 }), { apply: true, success: true })
  t.same(judgeQueryAnswer(pending, { state: 'failed', amount: 0 }), { apply: true, success: false })
  t.same(judgeQueryAnswer(pending, { state: 'success', amount: 90 }), { apply: false, anomaly: { kind: 'mismatch', detail: 'QUERY amount 90, expected 100' } })
  t.same(judgeQueryAnswer(lostInit, { state: 'failed', amount: 0 }), { apply: false }, 'PayGov may never have seen it: a failure is not believed')
  t.same(judgeQueryAnswer({ status: 'created', amount: 100 }, { state: 'success', amount: 100 }), { apply: true, success: true }, 'a success is')
})

t.test('payments: settlement figures', async (t) => {
  const p = (reference: string, status: PaymentStatus, amount: number): Payment => ({
    reference, maHoSo: `H-${reference}`, maTTHC: 'T', maDonVi: 'D', amount, currency: '704', fees: [], sender: 's', createdAt: 0, status,
    url: null, transactionCode: null, bank: null, resultAt: null, resultSource: null, updatedAt: 0, lastQueryAt: null, effectMessageId: null
  })
  const anomaly = (kind: CallbackAnomaly['kind'], amount: number): CallbackAnomaly => ({ kind, key: `${kind}${amount}`, reference: 'X', transactionCode: 'T', amount, resultCode: '00', detail: '', receivedAt: 0 })
  const r = settlementReport(0, 86_400_000, [p('a', 'paid', 10), p('b', 'pending', 20), p('c', 'created', 5), p('d', 'failed', 7), p('e', 'init_failed', 1)],
    [anomaly('orphan', 3), anomaly('mismatch', 4), anomaly('mismatch', 6)])
  t.match(r, {
    from: '1970-01-01T00:00:00.000Z', to: '1970-01-02T00:00:00.000Z',
    paid: { count: 1, amount: 10 }, pending: { count: 2, amount: 25 }, failed: { count: 2, amount: 8 },
    orphans: { count: 1, amount: 3 }, mismatches: { count: 2, amount: 10 }
  })
  t.equal(r.payments.length, 5)
})

const dead = (id: number, failedAt: number, more: Partial<DeadLetter> = {}): DeadLetter => ({
  id, destination: 'dvcqg', maHoSo: `H${id}`, messageId: `m${id}`, op: 'dossier', attempts: 3, code: 'LGSP_ERR_UPSTREAM_TIMEOUT', error: 'timeout',
  createdAt: failedAt - 1000, failedAt, blocked: 0, ...more
})

t.test('dead letters: the cursor is after an entry, read back exactly; anything else is a bad parameter', async (t) => {
  const c = deadCursor({ failedAt: 1700000000123, id: 42 })
  t.same(parseDeadCursor(c), { failedAt: 1700000000123, id: 42 })
  t.same(readDeadCursor(c), { failedAt: 1700000000123, id: 42 })
  t.equal(readDeadCursor(undefined), undefined, 'no cursor: from the start')
  for (const bad of ['', '12', '12.', '.3', '1.2.3', 'a.b', '-1.2', '1.-2', '12345678901234567.1']) {
    t.equal(parseDeadCursor(bad), undefined, `${JSON.stringify(bad)} is no cursor`)
    t.throws(() => readDeadCursor(bad), { code: 'LGSP_ERR_REQUEST_BAD_PARAMETER' })
  }
})

t.test('dead letters: ordered by when they died, then by id; after a cursor means strictly later in that order', async (t) => {
  const list = [dead(5, 2000), dead(3, 1000), dead(9, 1000), dead(1, 3000), dead(2, 1000)]
  t.same([...list].sort(deadOrder).map((d) => d.id), [2, 3, 9, 5, 1], 'same millisecond: by id')
  const cursor = { failedAt: 1000, id: 3 }
  t.same(list.filter((d) => deadAfter(d, cursor)).sort(deadOrder).map((d) => d.id), [9, 5, 1])
  t.notOk(deadAfter(dead(3, 1000), cursor), 'the cursor entry itself is not after it')
  t.ok(deadAfter(dead(1, 1001), cursor), 'a later millisecond with a smaller id is after it')
})

t.test('dead letters: every field of the filter must match; from is inclusive, to exclusive', async (t) => {
  const d = dead(7, 5000, { destination: 'tax', maHoSo: 'H-1', code: 'LGSP_ERR_TAX_REJECTED' })
  t.ok(deadMatches(d, {}, undefined), 'no filter keeps it')
  t.ok(deadMatches(d, { destination: 'tax', maHoSo: 'H-1', code: 'LGSP_ERR_TAX_REJECTED', from: 5000, to: 5001, id: 7 }, undefined))
  t.notOk(deadMatches(d, { destination: 'dvcqg' }, undefined))
  t.notOk(deadMatches(d, { maHoSo: 'H-2' }, undefined))
  t.notOk(deadMatches(d, { code: 'LGSP_ERR_UPSTREAM_TIMEOUT' }, undefined))
  t.notOk(deadMatches(d, { from: 5001 }, undefined))
  t.notOk(deadMatches(d, { to: 5000 }, undefined))
  t.notOk(deadMatches(d, { id: 8 }, undefined))
  t.notOk(deadMatches(d, {}, { failedAt: 5000, id: 7 }))
  t.ok(deadMatches(d, {}, { failedAt: 5000, id: 6 }))
})

t.test('dead letters: a page from candidates in any order is the filtered order, cut at the limit, and pages chain by cursor', async (t) => {
  const all = Array.from({ length: 250 }, (_, i) => dead(i + 1, 1000 + Math.floor(i / 3), { code: i % 2 === 0 ? 'A' : 'B' }))
  const shuffled = [...all].reverse()
  t.equal(deadPage(shuffled, {}).length, DEAD_PAGE, 'the default limit')
  t.same(deadPage(shuffled, { limit: 4 }).map((d) => d.id), [1, 2, 3, 4])
  // Walking the pages by cursor gives every matching entry once, in order, whatever the page size.
  for (const limit of [1, 7, 100]) {
    const seen: number[] = []
    let after: string | undefined
    for (;;) {
      const page = deadPage(shuffled, { code: 'B', limit, ...(after === undefined ? {} : { after }) })
      if (page.length === 0) break
      seen.push(...page.map((d) => d.id))
      after = deadCursor(page.at(-1)!)
    }
    t.same(seen, all.filter((d) => d.code === 'B').map((d) => d.id), `limit ${limit}`)
  }
  t.throws(() => deadPage(all, { after: 'x' }), { code: 'LGSP_ERR_REQUEST_BAD_PARAMETER' })
})

t.test('dead letters: a replay makes the unit due now with a fresh attempt count', async (t) => {
  t.same(replayReset(1234), { attempts: 0, nextAt: 1234 })
})

t.test('queue figures: absent counts are 0, the oldest age is never negative, destinations in name order', async (t) => {
  t.same(queueFigures('tax', {}, undefined, 5000), { destination: 'tax', pending: 0, inflight: 0, dead: 0, delivered: 0, oldestAgeMs: 0 })
  t.same(queueFigures('tax', { pending: 2, dead: 1, delivered: 9 }, 3000, 5000), { destination: 'tax', pending: 2, inflight: 0, dead: 1, delivered: 9, oldestAgeMs: 2000 })
  t.equal(queueFigures('tax', {}, 6000, 5000).oldestAgeMs, 0, 'a unit created by an instance whose clock is ahead')
  t.same(byDestination([queueFigures('tax', {}, undefined, 0), queueFigures('dvcqg', {}, undefined, 0), queueFigures('gplx', {}, undefined, 0)]).map((q) => q.destination),
    ['dvcqg', 'gplx', 'tax'])
})
