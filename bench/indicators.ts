/**
 * Indicators over a large ledger: 1,000,000 dossiers' facts (a year over 30 agencies), then
 * province-month and agency-month queries, timed; with BENCH_ONLY=redis, the same queries on
 * the Redis store over a smaller ledger (BENCH_REDIS_LEDGER, 200,000). (The cost of keeping the facts current is
 * measured on the real intake path, in run.ts: intake with and without them.)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import Database from 'better-sqlite3'
import { createClient } from 'redis'
import { parsePeriod, scoreIndicators, type DossierFacts } from '../gateway/ledger/indicators.js'
import { SqliteStore } from '../gateway/store/sqlite.js'
import { factIndex, RedisStore } from '../gateway/store/redis/index.js'
import type { AgencyScope, Store } from '../gateway/store/types.js'

const DOSSIERS = Number(process.env.BENCH_LEDGER ?? 1_000_000)
const DAY = 24 * 3600_000
const YEAR = Date.UTC(2024, 0, 1) - 7 * 3600_000

let seed = 7
const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }

/** A year of dossiers over 30 agencies of one province: the same ledger for both stores. */
function * generatedFacts (count: number): Generator<DossierFacts> {
  seed = 7
  for (let i = 0; i < count; i++) {
    const agency = `000.${String(i % 30).padStart(2, '0')}.01.H56`
    const received = YEAR + Math.floor(rnd() * 365) * DAY
    // Most dossiers end within weeks; the open backlog is the last month's plus 1% stuck.
    const recent = received > YEAR + 335 * DAY
    const ended = (recent ? rnd() < 0.5 : rnd() < 0.99) ? received + Math.floor(rnd() * 20) * DAY : null
    yield {
      maHoSo: `${agency}-${i}`, agency, maTTHC: '1.003560.000.00.00.H56', state: ended === null ? 4 : 9, receivedAt: received, dueAt: received + 10 * DAY, endedAt: ended,
      supplements: rnd() < 0.1 ? 1 : 0, pausedMs: 0, pauseSince: null,
      online: rnd() < 0.6, feeBearing: rnd() < 0.7, paidOnline: rnd() < 0.4, digitised: rnd() < 0.5, reuse: rnd() < 0.6, synced: true
    }
  }
}

/** Eight months' queries, province-wide and for one agency, timed; and the rows a province-month reads. */
async function timeQueries (reader: Pick<Store, 'countFacts' | 'factsFor'>): Promise<{ province: number[], agency: number[], rows: number }> {
  const time = async (scope: AgencyScope, label: string): Promise<number[]> => {
    const out: number[] = []
    for (const month of ['2024-02', '2024-05', '2024-08', '2024-11', '2024-03', '2024-06', '2024-09', '2024-12']) {
      const p = parsePeriod(month)
      const s = performance.now()
      // What GET /v1/indicators does without drill-down: the store sums, the scoring follows.
      scoreIndicators(label, p, await reader.countFacts(scope, p.from, p.to))
      out.push(performance.now() - s)
    }
    return out
  }
  const province = await time({ suffix: '.H56' }, '000.00.00.H56')
  const agency = await time({ codes: ['000.07.01.H56'] }, '000.07.01.H56')
  const rows = (await reader.factsFor({ suffix: '.H56' }, parsePeriod('2024-11').from, parsePeriod('2024-11').to)).length
  return { province, agency, rows }
}

async function ledgerQueries (dir: string): Promise<{ fill: number, province: number[], agency: number[], rows: number }> {
  const path = join(dir, 'big.db')
  const store = new SqliteStore({ path, synchronous: 'normal' })
  await store.init()
  await store.close()
  // Facts written directly: the query side is what is measured here.
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  const insert = db.prepare(`INSERT INTO dossier_facts (ma_ho_so, agency, ma_tthc, state, received_at, due_at, ended_at, supplements, paused_ms, pause_since, online, fee_bearing, paid_online, digitised, reuse, synced, province)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'H56')`)
  const t0 = performance.now()
  db.transaction(() => {
    for (const f of generatedFacts(DOSSIERS)) {
      insert.run(f.maHoSo, f.agency, f.maTTHC, f.state, f.receivedAt, f.dueAt, f.endedAt, f.supplements, f.pausedMs, f.pauseSince,
        Number(f.online), Number(f.feeBearing), Number(f.paidOnline), Number(f.digitised), Number(f.reuse), Number(f.synced))
    }
  })()
  const fill = performance.now() - t0
  db.close()
  const reader = new SqliteStore({ path, synchronous: 'normal' })
  await reader.init()
  const q = await timeQueries(reader)
  await reader.close()
  return { fill, ...q }
}

/**
 * The same queries on the Redis store, over `count` dossiers whose facts are written
 * directly in the store's layout (`{ns}:f:<MaHoSo>`, the month and open sets of factIndex, the synced set).
 */
export async function benchRedisIndicators (url: string, count: number): Promise<string> {
  const namespace = 'bench-indicators'
  const client = createClient({ url })
  await client.connect()
  const t0 = performance.now()
  const batch: Array<Promise<unknown>> = []
  for (const f of generatedFacts(count)) {
    const { synced: _synced, ...stored } = f
    const index = factIndex(f)
    batch.push(client.set(`{${namespace}}:f:${f.maHoSo}`, JSON.stringify(stored)), client.sAdd(`{${namespace}}:synced`, f.maHoSo),
      ...index.months.map((m) => client.sAdd(`{${namespace}}:fb:H56:${m}`, f.maHoSo)), ...(index.open ? [client.sAdd(`{${namespace}}:fo:H56`, f.maHoSo)] : []))
    if (batch.length >= 3000) await Promise.all(batch.splice(0))
  }
  await Promise.all(batch)
  const fill = performance.now() - t0
  await client.close()
  const reader = new RedisStore({ url, namespace, instance: 'bench', partitions: 16, leaseMs: 10_000, claimTimeoutMs: 60_000, idempotencyMs: 3600_000, connectTimeoutMs: 5000 })
  await reader.init()
  const q = await timeQueries(reader)
  await reader.close()
  return [
    `indicators on Redis over ${count.toLocaleString('en')} dossiers (filled in ${(fill / 1000).toFixed(1)} s; a province-month reads ~${q.rows.toLocaleString('en')} facts):`,
    `  province-month query: ${stats(q.province)}   agency-month query: ${stats(q.agency)}`
  ].join('\n')
}

const stats = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b)
  return `median ${s[Math.floor(s.length / 2)]!.toFixed(0)} ms, max ${s.at(-1)!.toFixed(0)} ms`
}

export async function benchIndicators (): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-bench-ind-'))
  try {
    const q = await ledgerQueries(dir)
    return [
      `indicators over ${DOSSIERS.toLocaleString('en')} dossiers (filled in ${(q.fill / 1000).toFixed(1)} s; a province-month reads ~${q.rows.toLocaleString('en')} rows):`,
      `  province-month query: ${stats(q.province)}   agency-month query: ${stats(q.agency)}   (goal < 200 ms; drill-down lists read the rows and take longer)`
    ].join('\n')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
