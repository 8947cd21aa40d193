/**
 * Event time everywhere: the same generated month (Tết inside, supplements, refusals,
 * withdrawals, reopened dossiers) fed to each store in several arrival orders (live, the
 * record at its final status first then the whole history, history in reverse, shuffled
 * batches with duplicates and stale re-sends) gives the same facts per dossier and the same
 * figures, on SQLite and on Redis, under more than one rule profile.
 */
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { Catalogue } from '../../gateway/catalogue.js'
import { formatDvcqgDate, WorkingCalendar } from '../../gateway/ledger/dates.js'
import { computeIndicators, nationalProfile, parsePeriod, updateFacts, type DossierFacts, type RuleProfile } from '../../gateway/ledger/indicators.js'
import { inProcessingOrder, planDossiers, planProgress, type DossierEvent, type DossierRow } from '../../gateway/ledger/plan.js'
import { SqliteStore } from '../../gateway/store/sqlite.js'
import { RedisStore } from '../../gateway/store/redis/index.js'
import type { AcceptInput, Store } from '../../gateway/store/types.js'
import type { HoSo, QuaTrinhXuLy } from '../../schemas/types.js'
import { testRedis } from '../redis-server.js'
import { tempDir } from '../helpers.js'

const N = 160
const DAY = 24 * 3600_000
const HOUR = 3600_000
const FEB = Date.UTC(2024, 1, 1) - 7 * HOUR
// Tết 2024: 8–14 February are holidays.
const calendarSettings = { weekend: [0, 6], holidays: ['2024-02-08', '2024-02-09', '2024-02-12', '2024-02-13', '2024-02-14'], workingDays: [] }
const calendar = new WorkingCalendar(calendarSettings)
const catalogue = Catalogue.load()
const derive = (prev: DossierFacts | undefined, row: DossierRow, events: readonly DossierEvent[]): DossierFacts => updateFacts(prev, row, events, catalogue, calendar)
const AGENCIES = ['000.00.01.H56', '000.00.02.H56']
const PROCEDURES = ['1.003560.000.00.00.H56', '1.004227.000.00.00.H56', '1.001193.000.00.00.H56']

let seed = 766
const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }

type Message = { kind: 'record', record: HoSo } | { kind: 'progress', maHoSo: string, entries: QuaTrinhXuLy[] }

interface Dossier {
  id: string
  /** The record as first sent (status 1 or 2). */
  first: HoSo
  /** The record at the dossier's final status, with its dates. */
  last: HoSo
  entries: QuaTrinhXuLy[]
}

function generate (i: number): Dossier {
  const agency = AGENCIES[i % AGENCIES.length]!
  const id = `${agency}-2402-${String(i).padStart(5, '0')}`
  // Some received in January (carry-overs), most in February.
  const received = FEB - 10 * DAY + Math.floor(rnd() * 38) * DAY + (1 + Math.floor(rnd() * 8)) * HOUR
  const refused = rnd() < 0.06
  const withDue = rnd() < 0.85
  const base: HoSo = {
    MaHoSo: id, MaTTHC: PROCEDURES[i % PROCEDURES.length]!, TenTTHC: 'Thủ tục', KenhThucHien: rnd() < 0.6 ? '2' : '1', ChuHoSo: 'Công dân', LoaiDoiTuong: '1',
    TrangThaiHoSo: refused ? '1' : '2',
    ...(refused ? { NgayNopHoSo: formatDvcqgDate(received) } : { NgayTiepNhan: formatDvcqgDate(received), ...(withDue ? { NgayHenTra: formatDvcqgDate(received + (2 + Math.floor(rnd() * 10)) * DAY) } : {}) }),
    TaiLieuNop: [{ TenTepDinhKem: 'Đơn.pdf', DuocSoHoa: rnd() < 0.7 ? '1' : '0' }],
    DanhSachLePhi: [{ TenPhiLePhi: 'Lệ phí', Gia: 50_000 }]
  }
  const entries: QuaTrinhXuLy[] = []
  const step = (at: number, s: QuaTrinhXuLy['TrangThai']): void => { entries.push({ MaHoSo: id, ThoiDiemXuLy: formatDvcqgDate(at), TrangThai: s, NoiDungXuLy: `Bước ${entries.length + 1}` }) }
  let at = received + HOUR
  const dates: Partial<HoSo> = {}
  let final: HoSo['TrangThaiHoSo'] = '4'
  if (refused) {
    step(at, 3)
    final = '3'
    dates.NgayTuChoi = formatDvcqgDate(at)
  } else {
    step(at, 4)
    const path = rnd()
    if (path < 0.08) {
      at += DAY
      step(at, 7)
      final = '7'
    } else if (path < 0.14) {
      at += 2 * DAY
      step(at, 8)
      final = '8'
      dates.NgayKetThucXuLy = formatDvcqgDate(at)
    } else if (path < 0.3) {
      // Unfinished; some waiting for a supplement.
      if (rnd() < 0.4) { at += DAY; step(at, 5); final = '5' }
    } else {
      const rounds = rnd() < 0.08 ? 2 : rnd() < 0.3 ? 1 : 0
      for (let k = 0; k < rounds; k++) {
        at += DAY
        step(at, 5)
        // A supplement wait measured in days (8.7 days once in a while).
        at += rnd() < 0.2 ? 8.7 * DAY : (1 + Math.floor(rnd() * 4)) * DAY
        step(at, 4)
      }
      at += Math.floor(rnd() * 9) * DAY + HOUR
      step(at, 9)
      // Reported processed, then back in processing (a client reporting 5/6/8 as 9).
      if (rnd() < 0.08) { at += DAY; step(at, 4); at += DAY; step(at, 9) }
      dates.NgayKetThucXuLy = formatDvcqgDate(at)
      final = '9'
      if (rnd() < 0.8) {
        at += DAY
        step(at, 10)
        final = '10'
        dates.NgayTra = formatDvcqgDate(at)
      }
    }
  }
  const results = final === '9' || final === '10'
    ? { DanhSachGiayToKetQua: [{ TenGiayTo: 'Kết quả', ...(rnd() < 0.7 ? { DuongDanTepTinKetQua: `https://dvc.example/kq/${i}.pdf` } : {}) }] }
    : {}
  return { id, first: base, last: { ...base, ...dates, ...results, TrangThaiHoSo: final }, entries }
}

const shuffle = <T>(xs: T[]): T[] => {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!]
  }
  return xs
}

/** Interleaves per-dossier message lists, each kept in its own order, dossiers taking turns at random. */
function interleave (lists: Message[][]): Message[] {
  const queues = lists.map((l) => [...l])
  const out: Message[] = []
  while (queues.some((q) => q.length > 0)) {
    const open = queues.filter((q) => q.length > 0)
    out.push(open[Math.floor(rnd() * open.length)]!.shift()!)
  }
  return out
}

const record = (r: HoSo): Message => ({ kind: 'record', record: r })
const progress = (d: Dossier, entries: QuaTrinhXuLy[]): Message => ({ kind: 'progress', maHoSo: d.id, entries })

/** The same messages of the month in an arrival order; `extra` adds duplicates and stale re-sends. */
const orders: Record<string, (month: Dossier[]) => Array<Message & { repeat?: boolean }>> = {
  // Live traffic: each event as it happens, the final record after the last entry.
  live: (month) => interleave(month.map((d) => [record(d.first), ...d.entries.map((e) => progress(d, [e])), record(d.last)])),
  // A one-stop that sends the record at its final status, then the whole history in one batch, then the first record again.
  recordFirst: (month) => interleave(month.map((d) => [record(d.last), progress(d, d.entries), record(d.first)])),
  // History replayed newest first, entry by entry.
  reversed: (month) => interleave(month.map((d) => [record(d.first), record(d.last), ...[...d.entries].reverse().map((e) => progress(d, [e]))])),
  // Batches of random size in random order, with duplicates (same message again) and stale re-sends of the first record.
  shuffled: (month) => interleave(month.map((d) => {
    const chunks: QuaTrinhXuLy[][] = []
    for (let i = 0; i < d.entries.length;) { const n = 1 + Math.floor(rnd() * 3); chunks.push(d.entries.slice(i, i + n)); i += n }
    const rest: Array<Message & { repeat?: boolean }> = shuffle([...chunks.map((c) => progress(d, c)), record(d.last), record(d.first)])
    if (rnd() < 0.5) rest.splice(Math.floor(rnd() * rest.length), 0, { ...rest[0]!, repeat: true })
    return [record(d.first), ...rest, record(d.first)]
  }))
}

let seq = 0
/** What the intake does for a message, straight on the store: plan against the current rows, commit. */
function acceptInput (m: Message, now: number, key?: string): AcceptInput {
  const messageId = `m-${++seq}`
  const maHoSo = m.kind === 'record' ? m.record.MaHoSo : m.maHoSo
  const body = JSON.stringify(m.kind === 'record' ? m.record : m.entries)
  return {
    messageId, receivedAt: now, sender: 'onestop', kind: m.kind === 'record' ? 'dossier' : 'progress', idempotencyKey: key ?? `k-${messageId}`, contentHash: body, body: null,
    maHoSo: [maHoSo], reply: { messageId, receivedAt: new Date(now).toISOString(), destinations: [] },
    plan: (current) => {
      const ctx = { sender: 'onestop', messageId, now }
      const change = m.kind === 'record' ? planDossiers(current, [m.record], ctx) : planProgress(current, maHoSo, inProcessingOrder(m.entries), ctx)
      return { change, outbox: [] }
    }
  }
}

async function feed (store: Store, messages: Array<Message & { repeat?: boolean }>, start: number): Promise<void> {
  const keys = new Map<string, string>()
  let now = start
  for (const m of messages) {
    now += 1000 + Math.floor(rnd() * 60_000)
    const body = JSON.stringify(m.kind === 'record' ? m.record : m.entries)
    // A duplicate: the same body under the key it was first sent with (the store answers it as a replay).
    const input = acceptInput(m, now, m.repeat === true ? keys.get(body) : undefined)
    if (m.repeat !== true) keys.set(body, input.idempotencyKey)
    try {
      await store.accept(input)
    } catch (err) {
      // Refused messages (an impossible move) change nothing, whatever their order; none is expected here.
      throw new Error(`${input.maHoSo[0]} ${body}: ${(err as Error).message}`)
    }
  }
}

const profiles: RuleProfile[] = [
  nationalProfile,
  { name: 'province-date', version: 3, carryOvers: false, withdrawn: 'onTime', granularity: 'date', noDueDate: 'late', maxSupplements: 1 }
]

/** Everything the month's figures are: facts per dossier (without `synced`, kept by deliveries) and the reports per period and profile. */
async function snapshot (store: Store): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  const facts = await store.factsFor({ suffix: '.H56' }, 0, Date.UTC(2030, 0, 1))
  out.facts = Object.fromEntries(facts.map(({ synced: _s, ...f }) => [f.maHoSo, f]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))))
  for (const label of ['2024-01', '2024-02', '2024-03', '2024-Q1']) {
    const period = parsePeriod(label)
    for (const profile of profiles) {
      for (const agency of ['000.00.00.H56', ...AGENCIES]) {
        const scope = agency === '000.00.00.H56' ? { suffix: '.H56' } : { codes: [agency] }
        const counts = await store.countFacts(scope, period.from, period.to, profile)
        const drill = computeIndicators(agency, period, await store.factsFor(scope, period.from, period.to), true, profile)
        out[`${label} ${profile.name} ${agency}`] = { counts, drill }
      }
    }
  }
  return out
}

const liveByStore = new Map<string, Record<string, unknown>>()

async function runOrders (t: Test, kind: string, open: (t: Test) => Promise<Store>): Promise<void> {
  seed = 766
  const month = Array.from({ length: N }, (_, i) => generate(i))
  const results: Record<string, Record<string, unknown>> = {}
  let start = Date.UTC(2024, 3, 1)
  for (const [name, order] of Object.entries(orders)) {
    const store = await open(t)
    await feed(store, order(month), start)
    // Each order arrives at another time: arrival time must not matter.
    start += 37 * DAY
    results[name] = await snapshot(store)
  }
  const [first, ...others] = Object.keys(results)
  const live = results[first!]!
  liveByStore.set(kind, live)
  const report = live['2024-02 national-766 000.00.00.H56'] as { counts: Record<string, number> }
  t.ok(report.counts.received > N / 2 && report.counts.judged > N / 2 && report.counts.onTime > 0 && report.counts.onTime < report.counts.judged, `a month with figures worth comparing: ${JSON.stringify(report.counts)}`)
  for (const name of others) {
    const r = results[name]!
    const differing = Object.keys(live).filter((k) => JSON.stringify(live[k]) !== JSON.stringify(r[k]))
    const facts = live.facts as Record<string, unknown>
    const other = r.facts as Record<string, unknown>
    const dossiers = Object.keys(facts).filter((id) => JSON.stringify(facts[id]) !== JSON.stringify(other[id]))
    t.same(dossiers.map((id) => [facts[id], other[id]]).slice(0, 2), [], `${name}: the same facts per dossier as live traffic`)
    t.same(differing, [], `${name}: the same figures as live traffic (every period, profile and agency)`)
  }
}

t.test('sqlite: every arrival order gives the same facts and figures', async (t) => {
  await runOrders(t, 'sqlite', async (t) => {
    const store = new SqliteStore({ path: join(tempDir(t), `lgsp-${++seq}.db`), synchronous: 'normal', facts: derive })
    await store.init()
    t.teardown(() => store.close())
    return store
  })
})

t.test('redis: every arrival order gives the same facts and figures', async (t) => {
  await runOrders(t, 'redis', async (t) => {
    const where = await testRedis(t)
    const store = new RedisStore({ ...where, instance: 'event-time', partitions: 4, leaseMs: 2000, claimTimeoutMs: 60_000, idempotencyMs: 3600_000, connectTimeoutMs: 2000, facts: derive })
    t.teardown(() => store.close())
    await store.init()
    return store
  })
})

t.test('both stores give the same facts and figures for the month', async (t) => {
  const [sqlite, redis] = [liveByStore.get('sqlite'), liveByStore.get('redis')]
  t.ok(sqlite !== undefined && redis !== undefined)
  t.same(Object.keys(sqlite!).filter((k) => JSON.stringify(sqlite![k]) !== JSON.stringify(redis![k])), [])
})

t.test('durations come from the dossier\'s own times, not from when its messages arrived', async (t) => {
  const store = new SqliteStore({ path: join(tempDir(t), 'one.db'), synchronous: 'normal', facts: derive })
  await store.init()
  t.teardown(() => store.close())
  const id = '000.00.01.H56-2402-99999'
  const r: HoSo = { MaHoSo: id, MaTTHC: PROCEDURES[0]!, TenTTHC: 'x', KenhThucHien: '2', ChuHoSo: 'x', LoaiDoiTuong: '1', TrangThaiHoSo: '2', NgayTiepNhan: '20240201080000', NgayHenTra: '20240205170000' }
  const e = (at: string, s: QuaTrinhXuLy['TrangThai']): QuaTrinhXuLy => ({ MaHoSo: id, ThoiDiemXuLy: at, TrangThai: s, NoiDungXuLy: 'x' })
  // Records at 5, then 4, four seconds apart: they carry no date of their status; then the
  // history with the real times: a supplement asked on the 2nd, supplied 8.7 days later.
  const messages: Message[] = [record(r), record({ ...r, TrangThaiHoSo: '5' }), record({ ...r, TrangThaiHoSo: '4' }),
    { kind: 'progress', maHoSo: id, entries: [e('20240202080000', 5), e('20240210233000', 4), e('20240212080000', 9)] },
    record({ ...r, TrangThaiHoSo: '9', NgayKetThucXuLy: '20240212080000' })]
  let now = Date.UTC(2024, 5, 1)
  for (const m of messages) await store.accept(acceptInput(m, now += 4000))
  const [f] = await store.factsFor({ codes: ['000.00.01.H56'] }, FEB, FEB + 29 * DAY)
  t.equal(f?.pausedMs, Date.UTC(2024, 1, 10, 16, 30) - Date.UTC(2024, 1, 2, 1), 'supplement wait from its ThoiDiemXuLy, not 4 s of arrival')
  t.equal(f?.supplements, 1, 'the untimed record at 5 and the timed entry are one request')
  t.equal(f?.endedAt, Date.UTC(2024, 1, 12, 1), 'ended when it says')
  t.equal(f?.detail?.endSource, 'NgayKetThucXuLy')
})

t.test('facts an older gateway kept (no observations) carry their measured waits over to the next message', async (t) => {
  const id = '000.00.01.H56-2402-88888'
  const record: HoSo = { MaHoSo: id, MaTTHC: PROCEDURES[0]!, TenTTHC: 'x', KenhThucHien: '2', ChuHoSo: 'x', LoaiDoiTuong: '1', TrangThaiHoSo: '4', NgayTiepNhan: '20240201080000', NgayHenTra: '20240210170000' }
  const received = Date.UTC(2024, 1, 1, 1)
  const legacy: DossierFacts = {
    maHoSo: id, agency: '000.00.01.H56', maTTHC: PROCEDURES[0]!, state: 4, receivedAt: received, dueAt: Date.UTC(2024, 1, 10, 10), endedAt: null,
    supplements: 1, pausedMs: 3 * DAY, pauseSince: null, online: true, feeBearing: false, paidOnline: false, digitised: false, reuse: false, synced: true
  }
  const row: DossierRow = { maHoSo: id, owner: 'onestop', maTTHC: PROCEDURES[0]!, state: 9, lastEventAt: Date.UTC(2024, 1, 12, 1), record: { ...record, TrangThaiHoSo: 9 }, version: 3, createdAt: 0, updatedAt: 0 }
  const event: DossierEvent = { maHoSo: id, messageId: 'm', kind: 'progress', at: Date.UTC(2024, 1, 12, 1), receivedAt: Date.UTC(2024, 5, 1), fromState: 4, toState: 9, applied: true, sender: 'onestop' }
  const f = derive(legacy, row, [event])
  t.match(f, { pausedMs: 3 * DAY, supplements: 1, endedAt: Date.UTC(2024, 1, 12, 1), receivedAt: received, synced: true })
  t.equal(derive(f, row, [])?.pausedMs, 3 * DAY, 'and keep them after')
})
