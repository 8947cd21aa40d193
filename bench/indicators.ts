/**
 * Indicators over a large ledger: 1,000,000 dossiers' facts (a year over 30 agencies), then
 * province-month and agency-month queries, timed. (The cost of keeping the facts current is
 * measured on the real intake path, in run.ts: intake with and without them.)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import Database from 'better-sqlite3'
import { parsePeriod, scoreIndicators } from '../gateway/ledger/indicators.js'
import { SqliteStore } from '../gateway/store/sqlite.js'

const DOSSIERS = Number(process.env.BENCH_LEDGER ?? 1_000_000)
const DAY = 24 * 3600_000
const YEAR = Date.UTC(2024, 0, 1) - 7 * 3600_000

let seed = 7
const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }

async function ledgerQueries (dir: string): Promise<{ fill: number, province: number[], agency: number[], rows: number }> {
  const path = join(dir, 'big.db')
  const store = new SqliteStore({ path, synchronous: 'normal' })
  await store.init()
  await store.close()
  // Facts written directly: the query side is what is measured here.
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  const insert = db.prepare(`INSERT INTO dossier_facts (ma_ho_so, agency, ma_tthc, state, received_at, due_at, ended_at, supplements, paused_ms, pause_since, online, fee_bearing, paid_online, digitised, reuse, synced, province)
    VALUES (?, ?, '1.003560.000.00.00.H56', ?, ?, ?, ?, ?, 0, NULL, ?, ?, ?, ?, ?, 1, 'H56')`)
  const t0 = performance.now()
  db.transaction(() => {
    for (let i = 0; i < DOSSIERS; i++) {
      const agency = `000.${String(i % 30).padStart(2, '0')}.01.H56`
      const received = YEAR + Math.floor(rnd() * 365) * DAY
      // Most dossiers end within weeks; the open backlog is the last month's plus 1% stuck.
      const recent = received > YEAR + 335 * DAY
      const ended = (recent ? rnd() < 0.5 : rnd() < 0.99) ? received + Math.floor(rnd() * 20) * DAY : null
      insert.run(`${agency}-${i}`, agency, ended === null ? 4 : 9, received, received + 10 * DAY, ended, rnd() < 0.1 ? 1 : 0,
        Number(rnd() < 0.6), Number(rnd() < 0.7), Number(rnd() < 0.4), Number(rnd() < 0.5), Number(rnd() < 0.6))
    }
  })()
  const fill = performance.now() - t0
  db.close()
  const reader = new SqliteStore({ path, synchronous: 'normal' })
  await reader.init()
  const time = async (scope: Parameters<SqliteStore['factsFor']>[0], label: string): Promise<number[]> => {
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
  await reader.close()
  return { fill, province, agency, rows }
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
