import t from 'tap'
import { Pki } from '../../certs/pki.js'
import { chain, entryHash, GENESIS, readArchive, sha256Hex, signCheckpoint, verifyLog, writeArchive, type LogAppend, type LogEntry } from '../../gateway/crypto/message-log.js'
import { tempDir } from '../helpers.js'

const N = 12_000

t.test('log verification catches every kind of tampering in a log of 12,000 entries', async (t) => {
  const pki = new Pki(tempDir(t))
  pki.init()
  const gw = pki.gateway()
  const items: LogAppend[] = Array.from({ length: N }, (_, i) => {
    const body = JSON.stringify({ MaHoSo: `H56.${i}`, n: i })
    return { at: 1_700_000_000_000 + i, direction: i % 3 === 0 ? 'out' : 'in', party: i % 3 === 0 ? 'dvcqg' : 'onestop', kind: 'dossier', messageId: `m-${i}`, contentHash: sha256Hex(body), body, signature: null }
  })
  const log = chain({ seq: 0, hash: GENESIS }, items)
  const checkpoints = [3000, 6000, 9000, N].map((s) => signCheckpoint(log[s - 1]!, gw))
  const certs = [gw.chain[0]!]
  const copy = (): LogEntry[] => log.map((e) => ({ ...e }))
  const kinds = (r: ReturnType<typeof verifyLog>): string[] => [...new Set(r.problems.map((p) => p.kind))].sort()

  const intact = verifyLog(log, checkpoints, certs)
  t.same({ ok: intact.ok, entries: intact.entries, checkpoints: intact.checkpoints, uncovered: intact.uncovered }, { ok: true, entries: N, checkpoints: 4, uncovered: 0 })

  await t.test('a changed body', async (t) => {
    const l = copy()
    l[4999]!.body = l[4999]!.body!.replace('"n":4999', '"n":5')
    const r = verifyLog(l, checkpoints, certs)
    t.same(r.problems.map((p) => [p.kind, p.seq]), [['changed', 5000]])
  })
  await t.test('a changed field', async (t) => {
    const l = copy()
    l[4999]!.party = 'someone-else'
    t.same(verifyLog(l, checkpoints, certs).problems.map((p) => [p.kind, p.seq]), [['changed', 5000]])
  })
  await t.test('a changed entry whose hash was recomputed', async (t) => {
    const l = copy()
    const e = l[4999]!
    e.party = 'someone-else'
    e.hash = entryHash(e, e.seq)
    const r = verifyLog(l, checkpoints, certs)
    t.same(kinds(r), ['changed'])
    t.ok(r.problems.some((p) => p.kind === 'changed' && p.seq === 5000))
  })
  await t.test('the whole chain re-hashed after a change: the signed checkpoints no longer match', async (t) => {
    const l = copy()
    l[4999]!.body = 'forged'
    l[4999]!.contentHash = sha256Hex('forged')
    const rebuilt = chain({ seq: 0, hash: GENESIS }, l)
    const r = verifyLog(rebuilt, checkpoints, certs)
    t.same(r.problems.map((p) => [p.kind, p.seq]), [['checkpoint', 6000], ['checkpoint', 9000], ['checkpoint', N]])
  })
  await t.test('a removed entry', async (t) => {
    const l = copy()
    l.splice(4999, 1)
    const r = verifyLog(l, checkpoints, certs)
    t.same(kinds(r), ['removed'])
    t.match(r.problems[0]!.detail, /entries 5000\.\.5000 are missing/)
  })
  await t.test('a removed entry, later entries renumbered', async (t) => {
    const l = copy()
    l.splice(4999, 1)
    for (const e of l.slice(4999)) e.seq--
    const r = verifyLog(l, checkpoints, certs)
    t.ok(r.problems.some((p) => p.kind === 'removed' && p.seq === 5000), 'the removal is found where it was')
    t.notOk(r.problems.some((p) => p.kind === 'changed'), 'renumbered entries are not taken for changed ones')
  })
  await t.test('an inserted entry', async (t) => {
    const l = copy()
    const fake: LogEntry = { ...l[4999]!, messageId: 'forged', body: 'x', contentHash: sha256Hex('x'), prevHash: l[4998]!.hash, seq: 5000, hash: '' }
    fake.hash = entryHash(fake, 5000)
    l.splice(4999, 0, fake)
    for (const e of l.slice(5000)) e.seq++
    const r = verifyLog(l, checkpoints, certs)
    t.ok(r.problems.some((p) => p.kind === 'inserted' && p.seq === 5000), 'the inserted entry is named')
    t.notOk(r.problems.some((p) => p.kind === 'changed' || p.kind === 'removed'))
  })
  await t.test('two entries swapped', async (t) => {
    const l = copy()
    const [a, b] = [l[4999]!, l[5000]!]
    l[4999] = { ...b, seq: 5000 }
    l[5000] = { ...a, seq: 5001 }
    const r = verifyLog(l, checkpoints, certs)
    t.same(kinds(r), ['reordered'])
  })
  await t.test('a checkpoint not signed by the gateway', async (t) => {
    const other = new Pki(tempDir(t))
    other.init()
    const forged = signCheckpoint(log[2999]!, other.gateway())
    const r = verifyLog(log, [forged, ...checkpoints.slice(1)], certs)
    t.same(r.problems.map((p) => [p.kind, p.seq]), [['checkpoint', 3000]])
  })
  await t.test('an archive of a range verifies from its anchor, and a changed line in it is found', async (t) => {
    const slice = log.slice(2000, 9000)
    const text = writeArchive({ format: 'lgsp-log-archive/v1', createdAt: new Date().toISOString(), anchor: log[1999]!.hash, fromSeq: 2001, toSeq: 9000, certificates: [gw.chain[0]!.toString()] }, slice, checkpoints.slice(0, 3))
    const a = readArchive(text)
    t.equal(verifyLog(a.entries, a.checkpoints, a.certificates, a.header.anchor).ok, true)
    const b = readArchive(text.replace('"messageId":"m-4321"', '"messageId":"m-1234"'))
    t.same(verifyLog(b.entries, b.checkpoints, b.certificates, b.header.anchor).problems.map((p) => [p.kind, p.seq]), [['changed', 4322]])
  })
})
