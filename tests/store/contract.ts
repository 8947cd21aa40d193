/**
 * The store contract: every Store implementation runs these same tests (sqlite.test.ts;
 * redis.test.ts on a single server, a Cluster and a Sentinel).
 */
import type { Test } from 'tap'
import { lgspError } from '../../gateway/errors.js'
import { planDossiers } from '../../gateway/ledger/plan.js'
import type { AcceptInput, DeadLetter, FactsDeriver, Store } from '../../gateway/store/types.js'
import { deadCursor } from '../../gateway/store/shared.js'
import { agencyOf, countIndicators } from '../../gateway/ledger/indicators.js'
import { GENESIS, sha256Hex, verifyLog } from '../../gateway/crypto/message-log.js'
import { hoso } from '../helpers.js'
import { actOnMatching, actOnOne } from '../../gateway/delivery/dlq.js'

export interface StoreFactory {
  /** A fresh, initialised store (keeping indicator facts with `facts`). */
  open: (t: Test, options?: { facts?: FactsDeriver }) => Promise<Store>
  /** Closes without completing what is in flight and opens the same data again (a crash and restart). */
  reopen: (t: Test, store: Store) => Promise<Store>
}

let seq = 0

/** An accept of one dossier record with one unit per destination. */
export function acceptOf (n: number, options: { key?: string, status?: '2' | '4' | '10', destinations?: string[], units?: number } = {}): AcceptInput {
  const record = hoso(n, options.status === undefined ? {} : { TrangThaiHoSo: options.status })
  const messageId = `msg-${++seq}-${n}`
  const destinations = options.destinations ?? ['dvcqg']
  return {
    messageId,
    receivedAt: 1_700_000_000_000 + seq,
    sender: 'onestop-test',
    kind: 'dossier',
    idempotencyKey: options.key ?? `auto-${messageId}`,
    contentHash: `hash-${n}-${options.status ?? '2'}`,
    body: JSON.stringify(record),
    maHoSo: [record.MaHoSo],
    reply: { messageId, receivedAt: new Date(1_700_000_000_000).toISOString(), destinations },
    plan: (current) => {
      const change = planDossiers(current, [record], { sender: 'onestop-test', messageId, now: 1_700_000_000_000 + seq })
      const outbox = destinations.flatMap((destination) => Array.from({ length: options.units ?? 1 }, (_, i) => ({ destination, maHoSo: record.MaHoSo, op: 'dossier', payload: { n, i } })))
      return { change, outbox }
    }
  }
}

/** Facts from the row alone (the real deriver needs the catalogue and calendar): received at creation, ended in 10. */
const testFacts: FactsDeriver = (prev, row) => ({
  maHoSo: row.maHoSo, agency: agencyOf(row.maHoSo), maTTHC: row.maTTHC, state: row.state, receivedAt: row.createdAt, dueAt: row.createdAt + 5,
  endedAt: row.state === 10 ? row.updatedAt : null, supplements: 0, pausedMs: 0, pauseSince: null,
  online: true, feeBearing: row.maHoSo.endsWith('1'), paidOnline: false, digitised: false, reuse: false, synced: prev?.synced ?? false
})

/** An accept with its body's real digest, so that the log verifier checks the bodies too. */
export const real = (i: AcceptInput): AcceptInput => ({ ...i, contentHash: sha256Hex(i.body ?? '') })

export function storeContract (t: Test, name: string, factory: StoreFactory): void {
  const now = Date.now() + 1000

  t.test(`${name}: accept writes everything at once, and a repeat gets the first reply`, async (t) => {
    const store = await factory.open(t)
    const input = acceptOf(1, { key: 'k1', destinations: ['dvcqg', 'onestop'] })
    const first = await store.accept(input)
    t.same(first, { replayed: false, reply: input.reply })
    const again = await store.accept({ ...acceptOf(1, { key: 'k1' }), contentHash: input.contentHash })
    t.same(again, { replayed: true, reply: input.reply })
    const view = await store.getDossier(hoso(1).MaHoSo)
    t.equal(view?.row.state, 2)
    t.equal(view?.history.length, 1)
    t.same(Object.keys(view!.deliveries).sort(), ['dvcqg', 'onestop'])
    await t.rejects(store.accept({ ...acceptOf(1, { key: 'k1' }), contentHash: 'other' }), { code: 'LGSP_ERR_IDEMPOTENCY_KEY_REUSED' })
  })

  t.test(`${name}: a refused plan writes nothing, and does not disturb the writes committed with it`, async (t) => {
    const store = await factory.open(t)
    const bad: AcceptInput = { ...acceptOf(2), plan: () => { throw lgspError('LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION') } }
    const results = await Promise.allSettled([store.accept(acceptOf(3)), store.accept(bad), store.accept(acceptOf(4))])
    t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled'])
    t.equal(await store.getDossier(hoso(2).MaHoSo), undefined)
    t.ok(await store.getDossier(hoso(3).MaHoSo))
    t.ok(await store.getDossier(hoso(4).MaHoSo))
    const retry = await store.accept({ ...acceptOf(2), idempotencyKey: bad.idempotencyKey })
    t.equal(retry.replayed, false, 'the refused message left no idempotency record')
  })

  t.test(`${name}: claims hand out each dossier's oldest unit only, dossiers in parallel`, async (t) => {
    const store = await factory.open(t)
    await store.accept(acceptOf(10, { units: 3 }))
    await store.accept(acceptOf(11, { units: 2 }))
    const first = await store.claim('dvcqg', 10, now)
    t.same(first.map((i) => [i.maHoSo, (i.payload as { i: number }).i]).sort(), [[hoso(10).MaHoSo, 0], [hoso(11).MaHoSo, 0]])
    t.same(await store.claim('dvcqg', 10, now), [], 'nothing more while the heads are in flight')
    await store.complete(first.map((i) => ({ id: i.id, outcome: 'delivered' as const })))
    const second = await store.claim('dvcqg', 10, now)
    t.same(second.map((i) => (i.payload as { i: number }).i), [1, 1])
    t.same(await store.claim('onestop', 10, now), [], 'other destinations have their own queues')
  })

  t.test(`${name}: the trace id of the request that brought a message stays with its units, retries and restarts included`, async (t) => {
    let store = await factory.open(t)
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    await store.accept({ ...acceptOf(15, { destinations: ['dvcqg', 'onestop'] }), traceId })
    await store.accept(acceptOf(16))
    const claimed = await store.claim('dvcqg', 10, now)
    t.same(claimed.map((i) => [i.maHoSo, i.traceId]).sort(), [[hoso(15).MaHoSo, traceId], [hoso(16).MaHoSo, undefined]], 'a request without a traceparent has none')
    const traced = claimed.find((i) => i.traceId !== undefined)!
    await store.complete([{ id: traced.id, outcome: 'retry', nextAt: now, code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE', error: 'down', uncertain: false }])
    t.equal((await store.claim('dvcqg', 10, now))[0]?.traceId, traceId, 'kept across a retry')
    store = await factory.reopen(t, store)
    t.equal((await store.claim('onestop', 10, now))[0]?.traceId, traceId, 'on every destination\'s unit, and after a restart')
  })

  t.test(`${name}: a retried unit waits for its time and keeps the dossier's later units behind it`, async (t) => {
    const store = await factory.open(t)
    await store.accept(acceptOf(20, { units: 2 }))
    const [a] = await store.claim('dvcqg', 10, now)
    await store.complete([{ id: a!.id, outcome: 'retry', nextAt: now + 60_000, code: 'LGSP_ERR_UPSTREAM_TIMEOUT', error: 'timeout', uncertain: true }])
    t.same(await store.claim('dvcqg', 10, now), [])
    t.equal(await store.nextDueAt('dvcqg'), now + 60_000)
    const [again] = await store.claim('dvcqg', 10, now + 60_000)
    t.match(again, { id: a!.id, attempts: 2, uncertain: true })
  })

  t.test(`${name}: a dead unit blocks its dossier until replayed or discarded`, async (t) => {
    const store = await factory.open(t)
    await store.accept(acceptOf(30, { units: 2 }))
    await store.accept(acceptOf(31))
    const claimed = await store.claim('dvcqg', 10, now)
    const dead = claimed.find((i) => i.maHoSo === hoso(30).MaHoSo)!
    await store.complete(claimed.map((i) => i === dead
      ? { id: i.id, outcome: 'dead' as const, code: 'LGSP_ERR_DVCQG_REJECTED' as const, error: 'no' }
      : { id: i.id, outcome: 'delivered' as const }))
    t.same(await store.claim('dvcqg', 10, now), [], 'blocked behind the dead unit')
    const [entry] = await store.listDead({})
    t.match(entry, { id: dead.id, maHoSo: hoso(30).MaHoSo, code: 'LGSP_ERR_DVCQG_REJECTED', blocked: 1 })
    t.equal(await store.replayDead(dead.id, now), true)
    t.equal(await store.replayDead(dead.id, now), false, 'no longer dead')
    const [replayed] = await store.claim('dvcqg', 10, now)
    t.match(replayed, { id: dead.id, attempts: 1 })
    await store.complete([{ id: replayed!.id, outcome: 'dead', code: 'LGSP_ERR_DVCQG_REJECTED', error: 'still no' }])
    t.equal(await store.discardDead(dead.id, now, 'test'), true)
    const [later] = await store.claim('dvcqg', 10, now)
    t.equal((later!.payload as { i: number }).i, 1, 'the later unit flows')
    const stats = await store.queueStats()
    t.match(stats, [{ destination: 'dvcqg', inflight: 1, dead: 0, delivered: 1 }])
  })

  t.test(`${name}: dead letters are selected by destination, code or dossier; bulk replay and discard write one message-log entry each`, async (t) => {
    const store = await factory.open(t)
    for (const n of [40, 41, 42]) await store.accept(acceptOf(n, { destinations: ['dvcqg', 'onestop'] }))
    const codes = { [hoso(40).MaHoSo]: 'LGSP_ERR_DVCQG_REJECTED', [hoso(41).MaHoSo]: 'LGSP_ERR_DVCQG_REJECTED', [hoso(42).MaHoSo]: 'LGSP_ERR_UPSTREAM_REJECTED' } as const
    for (const d of ['dvcqg', 'onestop']) {
      const claimed = await store.claim(d, 10, now)
      await store.complete(claimed.map((i) => ({ id: i.id, outcome: 'dead' as const, code: codes[i.maHoSo]!, error: 'no' })))
    }
    t.equal((await store.listDead({ code: 'LGSP_ERR_DVCQG_REJECTED' })).length, 4)
    t.equal((await store.listDead({ code: 'LGSP_ERR_DVCQG_REJECTED', destination: 'onestop' })).length, 2)
    t.equal((await store.listDead({ maHoSo: hoso(42).MaHoSo, code: 'LGSP_ERR_UPSTREAM_REJECTED' })).length, 2)

    const tip = await store.logTip()
    const replayed = await actOnMatching(store, 'replay', { destination: 'dvcqg', code: 'LGSP_ERR_DVCQG_REJECTED' }, 'operator', 'DVCQG fixed', now)
    t.equal(replayed.ids.length, 2)
    t.equal((await store.claim('dvcqg', 10, now)).length, 2, 'back in the queue')
    const discarded = await actOnMatching(store, 'discard', { maHoSo: hoso(42).MaHoSo }, 'operator', 'withdrawn', now)
    t.equal(discarded.ids.length, 2)
    t.same(await store.listDead({ maHoSo: hoso(42).MaHoSo }), [])
    const none = await actOnMatching(store, 'discard', { code: 'LGSP_ERR_UPSTREAM_NETWORK' }, 'operator', 'nothing', now)
    t.same(none, { action: 'discard', ids: [] }, 'nothing matched, nothing logged')
    const one = await actOnOne(store, 'discard', (await store.listDead({ destination: 'onestop' }))[0]!.id, 'operator', 'one by id', now)
    t.equal(one?.ids.length, 1)
    const log = await store.readLog({ fromSeq: tip.seq + 1 })
    t.same(log.map((e) => [e.party, e.kind]), [['operator', 'dlq-replay'], ['operator', 'dlq-discard'], ['operator', 'dlq-discard']])
    t.match(JSON.parse(log[1]!.body!), { reason: 'withdrawn', filter: { maHoSo: hoso(42).MaHoSo }, units: discarded.ids })
  })

  t.test(`${name}: a completion's effects are written with it, and a completion that does not apply writes none`, async (t) => {
    const store = await factory.open(t, { facts: testFacts })
    for (const n of [85, 86, 87]) await store.accept(acceptOf(n))
    const [a, b, c] = [85, 86, 87].map((n) => hoso(n).MaHoSo)
    const units = new Map((await store.claim('dvcqg', 10, now)).map((u) => [u.maHoSo, u]))
    await store.complete([
      { id: units.get(a!)!.id, outcome: 'delivered', effects: [{ kind: 'dossier-synced', maHoSo: a! }, { kind: 'cursor', key: 'test.ref.85', value: 'R-85' }] },
      // A re-sync went through, then the unit itself failed: the re-sync's effect still holds.
      { id: units.get(b!)!.id, outcome: 'retry', nextAt: now + 1000, code: 'LGSP_ERR_UPSTREAM_TIMEOUT', error: 'timeout', uncertain: true, effects: [{ kind: 'dossier-synced', maHoSo: b! }] },
      { id: units.get(c!)!.id, outcome: 'delivered' }
    ])
    // Already completed: a second completion (a consumer whose claim was taken over) applies nothing.
    await store.complete([{ id: units.get(a!)!.id, outcome: 'delivered', effects: [{ kind: 'dossier-synced', maHoSo: c! }, { kind: 'cursor', key: 'test.ref.late', value: 'x' }] }])
    const facts = await store.factsFor({ suffix: '.H56' }, 1_699_999_000_000, 1_701_000_000_000)
    t.same(facts.filter((f) => f.synced).map((f) => f.maHoSo).sort(), [a, b], 'synced by the completions that applied, not by the late one')
    t.equal(await store.getCursor('test.ref.85'), 'R-85')
    t.equal(await store.getCursor('test.ref.late'), undefined)
  })

  t.test(`${name}: units in flight at a crash come back as uncertain`, async (t) => {
    const store = await factory.open(t)
    await store.accept(acceptOf(40))
    const [unit] = await store.claim('dvcqg', 10, now)
    t.equal(unit!.uncertain, false)
    const reopened = await factory.reopen(t, store)
    const [back] = await reopened.claim('dvcqg', 10, now)
    t.match(back, { id: unit!.id, uncertain: true, attempts: 2 })
  })

  t.test(`${name}: many concurrent accepts all commit`, async (t) => {
    const store = await factory.open(t)
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => store.accept(acceptOf(1000 + i))))
    t.equal(results.filter((r) => !r.replayed).length, 500)
    t.match(await store.queueStats(), [{ destination: 'dvcqg', pending: 500 }])
  })

  t.test(`${name}: payments are recorded once, and a success is final`, async (t) => {
    const store = await factory.open(t)
    const p = { reference: 'REF1', maHoSo: hoso(60).MaHoSo, maTTHC: '1.003560', maDonVi: 'H56', amount: 1000, currency: 'VND', fees: [{ TenPhiLePhi: 'Lệ phí', Gia: 1000 }], sender: 's', idempotencyKey: 'pk', contentHash: 'h', createdAt: now }
    t.equal((await store.createPayment(p)).created, true)
    const again = await store.createPayment({ ...p, reference: 'REF2' })
    t.match(again, { created: false, payment: { reference: 'REF1', status: 'created' } })
    await t.rejects(store.createPayment({ ...p, reference: 'REF3', contentHash: 'other' }), { code: 'LGSP_ERR_IDEMPOTENCY_KEY_REUSED' })
    await store.setPaymentInit('REF1', { url: 'https://pay/REF1' }, now)
    t.match(await store.duePayments(now + 1, 10), [{ reference: 'REF1', status: 'pending' }])
    await store.markQueried('REF1', now + 1)
    t.same(await store.duePayments(now + 1, 10), [], 'not queried twice in one round')
    const result = { reference: 'REF1', transactionCode: 'T1', bank: null, resultAt: now, source: 'callback' as const, at: now }
    t.match(await store.applyPaymentResult({ ...result, success: false }), { outcome: 'failed' })
    t.match(await store.applyPaymentResult({ ...result, success: true, transactionCode: 'T2' }), { outcome: 'paid', payment: { status: 'paid', transactionCode: 'T2' } })
    t.match(await store.applyPaymentResult({ ...result, success: false, transactionCode: 'T3' }), { outcome: 'unchanged', payment: { status: 'paid', transactionCode: 'T2' } })
    t.match(await store.paidPaymentOf(p.maHoSo), { reference: 'REF1' })
    t.match(await store.paymentsAwaitingEffect(10), [{ reference: 'REF1' }])
    await store.setPaymentEffect('REF1', 'msg-x')
    t.same(await store.paymentsAwaitingEffect(10), [])
    await store.recordAnomaly({ kind: 'orphan', key: 'k', reference: 'X', transactionCode: 'T', amount: 5, resultCode: '00', detail: 'd', receivedAt: now })
    await store.recordAnomaly({ kind: 'orphan', key: 'k', reference: 'X', transactionCode: 'T', amount: 5, resultCode: '00', detail: 'd', receivedAt: now })
    t.match(await store.settlement(now - 1, now + 10), { paid: { count: 1, amount: 1000 }, orphans: { count: 1, amount: 5 } })
    await store.saveCallbackReply('cb', 'REF1', { status: 200, body: { MaLoi: '00' } }, now)
    t.same(await store.callbackReply('cb'), { status: 200, body: { MaLoi: '00' } })
    t.equal(await store.callbackReply('none'), undefined)
  })

  t.test(`${name}: poller cursors survive a restart`, async (t) => {
    const store = await factory.open(t)
    t.equal(await store.getCursor('gplx:gplx'), undefined)
    await store.setCursor('gplx:gplx', '41')
    await store.setCursor('gplx:gplx', '42')
    const reopened = await factory.reopen(t, store)
    t.equal(await reopened.getCursor('gplx:gplx'), '42')
  })

  t.test(`${name}: idempotency records expire`, async (t) => {
    const store = await factory.open(t)
    const input = acceptOf(50, { key: 'old' })
    await store.accept(input)
    t.equal(await store.purgeIdempotency(input.receivedAt + 1), 1)
    t.equal((await store.accept({ ...acceptOf(50, { key: 'old' }), contentHash: 'new' })).replayed, false)
  })

  t.test(`${name}: indicator facts follow each accept, and the counts are computeIndicators' counts`, async (t) => {
    const store = await factory.open(t, { facts: testFacts })
    for (const n of [80, 81, 82]) await store.accept(acceptOf(n))
    await store.accept(acceptOf(81, { status: '4' }))
    const from = 1_699_999_000_000
    const to = 1_701_000_000_000
    const ids = [80, 81, 82].map((n) => hoso(n).MaHoSo)
    const facts = (await store.factsFor({ suffix: '.H56' }, from, to)).sort((a, b) => a.maHoSo.localeCompare(b.maHoSo))
    t.same(facts.map((f) => [f.maHoSo, f.state]), [[ids[0], 2], [ids[1], 4], [ids[2], 2]], 'one fact per dossier, current')
    await store.markSynced([ids[0]!])
    const synced = await store.factsFor({ codes: ['000.00.01.H56'] }, from, to)
    t.same(synced.filter((f) => f.synced).map((f) => f.maHoSo), [ids[0]], 'marked synced')
    t.same(await store.countFacts({ suffix: '.H56' }, from, to), countIndicators({ from, to }, synced).counts)
    t.match(await store.countFacts({ suffix: '.H56' }, from, to), { received: 3, synced: 1, online: 3, judged: 3 })
    t.same(await store.factsFor({ codes: ['000.00.02.H56'] }, from, to), [], 'another agency')
    t.same(await store.factsFor({ suffix: '.H01' }, from, to), [], 'another province')
    t.same(await store.factsFor({ suffix: '.H56' }, 0, from), [], 'a period before they were received')
  })

  t.test(`${name}: the message log chains accepts and sent messages, keeps long signature headers intact, and survives a restart`, async (t) => {
    const store = await factory.open(t)
    t.same(await store.logTip(), { seq: 0, hash: GENESIS })
    const longHeader = Buffer.from(JSON.stringify({ alg: 'ES256', x5c: ['A'.repeat(1500), 'B'.repeat(1500)] })).toString('base64url')
    const signature = `${longHeader}..${'s'.repeat(86)}`
    await store.accept({ ...real(acceptOf(60)), signature })
    await store.accept({ ...acceptOf(61), body: null })
    await Promise.all([store.accept(real(acceptOf(62))), store.appendLog([{ at: now, direction: 'out', party: 'dvcqg', kind: 'dossier', messageId: 'm-out', contentHash: sha256Hex('{"x":1}'), body: '{"x":1}', signature: `${longHeader}..other` }])])
    const log = await store.readLog({})
    t.same(log.map((e) => e.seq), [1, 2, 3, 4])
    t.equal(log[0]!.signature, signature, 'a long header comes back as sent')
    t.equal(log[1]!.body, null, 'a digest-only entry')
    t.equal(log.find((e) => e.direction === 'out')?.signature, `${longHeader}..other`)
    const report = verifyLog(log, [], [])
    t.same(report.problems, [], 'the chain verifies')
    t.same(await store.logTip(), { seq: 4, hash: log[3]!.hash })
    t.same((await store.readLog({ fromSeq: 2, toSeq: 3 })).map((e) => e.seq), [2, 3])
    t.same((await store.readLog({ messageId: 'm-out' })).map((e) => [e.direction, e.party]), [['out', 'dvcqg']], 'one message\'s entries')
    await store.saveCheckpoint({ seq: 4, hash: log[3]!.hash, at: now, signature: 'sig' })
    const reopened = await factory.reopen(t, store)
    t.same(await reopened.checkpoints(0, 10), [{ seq: 4, hash: log[3]!.hash, at: now, signature: 'sig' }])
    await reopened.accept(acceptOf(63))
    const after = await reopened.readLog({ fromSeq: 5 })
    t.equal(after[0]!.prevHash, log[3]!.hash, 'the chain goes on after a restart')
    await t.rejects(reopened.accept({ ...acceptOf(64), plan: () => { throw lgspError('LGSP_ERR_DOSSIER_NOT_FOUND') } }))
    t.equal((await reopened.logTip()).seq, 5, 'a refused accept logs nothing')
  })

  t.test(`${name}: each attempt is kept with its unit in the completion's write, the last 20, and a success only after failures`, async (t) => {
    const store = await factory.open(t)
    await store.accept(acceptOf(70))
    await store.accept(acceptOf(71))
    const note = (n: number, code: string | null, uncertain = false) => ({ at: now + n, attempt: n, code, message: code === null ? null : `answer ${n}`, ms: 10 + n, uncertain })
    const claimed = await store.claim('dvcqg', 10, now)
    const failing = claimed.find((i) => i.maHoSo === hoso(70).MaHoSo)!
    const fine = claimed.find((i) => i.maHoSo === hoso(71).MaHoSo)!
    await store.complete([
      { id: failing.id, outcome: 'retry', nextAt: now, code: 'LGSP_ERR_UPSTREAM_TIMEOUT', error: 'timeout', uncertain: true, attempt: note(1, 'LGSP_ERR_UPSTREAM_TIMEOUT', true) },
      { id: fine.id, outcome: 'delivered', attempt: note(1, null) }
    ])
    t.same(await store.attemptsOf(fine.id), [], 'a first-time success writes no attempt')
    for (let n = 2; n <= 22; n++) {
      const [again] = await store.claim('dvcqg', 10, now)
      t.equal(again?.id, failing.id)
      await store.complete([n < 22
        ? { id: failing.id, outcome: 'retry', nextAt: now, code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE', error: 'down', uncertain: false, attempt: note(n, 'LGSP_ERR_UPSTREAM_UNAVAILABLE') }
        : { id: failing.id, outcome: 'dead', code: 'LGSP_ERR_DVCQG_REJECTED', error: 'no', attempt: note(n, 'LGSP_ERR_DVCQG_REJECTED') }])
    }
    const kept = await store.attemptsOf(failing.id)
    t.equal(kept.length, 20, 'bounded per unit')
    t.same(kept.map((a) => a.attempt), Array.from({ length: 20 }, (_, i) => i + 3), 'the last ones, oldest first')
    t.same(kept.at(-1), { at: now + 22, attempt: 22, outcome: 'dead', code: 'LGSP_ERR_DVCQG_REJECTED', message: 'answer 22', ms: 32, uncertain: false })
    t.match(kept[0], { outcome: 'retry', code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE' })
    t.match(await store.deadLetter(failing.id), { id: failing.id, code: 'LGSP_ERR_DVCQG_REJECTED', error: 'no' })
    t.equal(await store.deadLetter(fine.id), undefined, 'only dead units')
    t.equal(await store.replayDead(failing.id, now), true)
    const [replayed] = await store.claim('dvcqg', 10, now)
    await store.complete([{ id: replayed!.id, outcome: 'delivered', attempt: note(1, null) }])
    t.match((await store.attemptsOf(failing.id)).at(-1), { attempt: 1, outcome: 'delivered', code: null }, 'the success after the failures is kept')
    t.equal((await store.attemptsOf(failing.id)).length, 20)
  })

  t.test(`${name}: dead letters page by cursor in the order they died, filtered by destination, code and date, ties included`, async (t) => {
    const store = await factory.open(t)
    const codes = ['LGSP_ERR_DVCQG_REJECTED', 'LGSP_ERR_UPSTREAM_REJECTED'] as const
    for (let n = 80; n < 89; n++) await store.accept(acceptOf(n, { destinations: ['dvcqg', 'onestop'] }))
    for (const d of ['dvcqg', 'onestop']) {
      const claimed = await store.claim(d, 20, now)
      t.equal(claimed.length, 9)
      // Three per completion: units that die in one write share their failedAt (ties across pages).
      for (let i = 0; i < claimed.length; i += 3) {
        await store.complete(claimed.slice(i, i + 3).map((u, j) => ({ id: u.id, outcome: 'dead' as const, code: codes[(i + j) % 2]!, error: 'no' })))
      }
    }
    const pages = async (filter: Parameters<Store['listDead']>[0], limit: number): Promise<number[]> => {
      const out: number[] = []
      let after: string | undefined
      for (let guard = 0; guard < 50; guard++) {
        const page = await store.listDead({ ...filter, limit, ...after === undefined ? {} : { after } })
        out.push(...page.map((d) => d.id))
        if (page.length < limit) return out
        after = deadCursor(page.at(-1)!)
      }
      throw new Error('paging did not end')
    }
    const all = await store.listDead({ limit: 100 })
    t.equal(all.length, 18)
    const ordered = [...all].sort((a, b) => a.failedAt - b.failedAt || a.id - b.id)
    t.same(all.map((d) => d.id), ordered.map((d) => d.id), 'oldest first, then by id')
    for (const limit of [1, 2, 4, 7]) t.same(await pages({}, limit), all.map((d) => d.id), `pages of ${limit} cover the list once, in order`)
    const pick = (f: (d: DeadLetter) => boolean): number[] => all.filter(f).map((d) => d.id)
    t.same(await pages({ destination: 'onestop' }, 2), pick((d) => d.destination === 'onestop'))
    t.same(await pages({ code: codes[1] }, 2), pick((d) => d.code === codes[1]))
    t.same(await pages({ destination: 'dvcqg', code: codes[0] }, 2), pick((d) => d.destination === 'dvcqg' && d.code === codes[0]))
    t.same(await pages({ maHoSo: hoso(83).MaHoSo }, 1), pick((d) => d.maHoSo === hoso(83).MaHoSo))
    const from = all[5]!.failedAt
    const to = all[14]!.failedAt
    t.same(await pages({ from, to }, 2), pick((d) => d.failedAt >= from && d.failedAt < to), 'from inclusive, to exclusive')
    t.same(await pages({ from, code: codes[0] }, 3), pick((d) => d.failedAt >= from && d.code === codes[0]))
    // Replayed and discarded letters leave the indexes.
    await store.replayDead(all[0]!.id, now)
    await store.discardDead(all[1]!.id, now, 'test')
    t.same(await pages({ code: all[0]!.code }, 2), pick((d) => d.code === all[0]!.code && d.id !== all[0]!.id && d.id !== all[1]!.id))
    t.same(await pages({ destination: all[1]!.destination }, 2), pick((d) => d.destination === all[1]!.destination && d.id !== all[0]!.id && d.id !== all[1]!.id))
    await t.rejects(store.listDead({ after: 'nonsense' }), { code: 'LGSP_ERR_REQUEST_BAD_PARAMETER' })
  })

  t.test(`${name}: a closed period keeps every revision`, async (t) => {
    const store = await factory.open(t)
    t.same(await store.revisions('000.00.00.H56', '2024-02'), [])
    await store.saveRevision({ agency: '000.00.00.H56', period: '2024-02', createdAt: now, report: { total: 1 }, changes: [] })
    await store.saveRevision({ agency: '000.00.00.H56', period: '2024-02', createdAt: now + 1, report: { total: 2 }, changes: [{ indicator: 'onTime' }] })
    await store.saveRevision({ agency: '000.00.00.H56', period: '2024-03', createdAt: now + 2, report: { total: 3 }, changes: [] })
    t.same((await store.revisions('000.00.00.H56', '2024-02')).map((r) => [r.revision, r.createdAt, r.report, r.changes]),
      [[1, now, { total: 1 }, []], [2, now + 1, { total: 2 }, [{ indicator: 'onTime' }]]])
    t.equal((await store.latestRevision('000.00.00.H56', '2024-02'))?.revision, 2)
  })
}
