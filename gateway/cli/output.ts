/**
 * What the `lgsp` commands print: a readable table or key/value list by default, JSON with
 * `--json` (for scripts), times as ISO 8601 in both, and progress lines on stderr so that
 * stdout stays clean for a pipe. Progress is shown when stderr is a terminal or `--progress`
 * asks for it (a cron job's mail or a CI log gets only the result).
 */

/** Keys whose numeric values are epoch milliseconds (store rows: createdAt, failedAt, …). */
const TIME_KEY = /(At|Time)$/

/** Epoch-millisecond fields become ISO 8601 strings (UTC), at any depth. */
export function isoTimes (v: unknown, key = ''): unknown {
  if (typeof v === 'number' && TIME_KEY.test(key) && v > 1e11 && v < 1e14) return new Date(v).toISOString()
  if (Array.isArray(v)) return v.map((x) => isoTimes(x))
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, isoTimes(x, k)]))
  }
  return v
}

const cell = (v: unknown): string => {
  if (v === undefined || v === null) return ''
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v).replace(/\s+/g, ' ')
}

const isRow = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/** A plain-text table of rows (the union of their keys as columns); long cells are cut. */
export function table (rows: ReadonlyArray<Record<string, unknown>>, max = 60): string {
  if (rows.length === 0) return '(none)'
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  const cells = rows.map((r) => cols.map((c) => { const s = cell(r[c]); return s.length > max ? `${s.slice(0, max - 1)}…` : s }))
  const width = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)))
  const line = (xs: string[]): string => xs.map((x, i) => x.padEnd(width[i]!)).join('  ').trimEnd()
  return [line(cols), line(width.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')
}

/** Human form of any result: tables for lists of records, `key  value` lines otherwise. */
export function human (v: unknown, indent = ''): string {
  if (typeof v === 'string') return indent + v
  if (Array.isArray(v)) {
    if (v.every(isRow)) return table(v).split('\n').map((l) => indent + l).join('\n')
    return v.map((x) => indent + cell(x)).join('\n')
  }
  if (!isRow(v)) return indent + cell(v)
  const width = Math.max(0, ...Object.keys(v).map((k) => k.length))
  const out: string[] = []
  for (const [k, x] of Object.entries(v)) {
    if ((Array.isArray(x) && x.length > 0 && typeof x[0] === 'object') || (isRow(x) && Object.keys(x).length > 0)) {
      out.push(`${indent}${k}:`, human(x, `${indent}  `))
    } else {
      out.push(`${indent}${k.padEnd(width)}  ${Array.isArray(x) ? x.map(cell).join(', ') || '(none)' : cell(x)}`)
    }
  }
  return out.join('\n')
}

/** Where a command writes its result and its progress. */
export interface Output {
  readonly json: boolean
  /** The command's result: JSON with --json, readable text otherwise. */
  result: (v: unknown) => void
  /** A line for the operator (stdout; omitted with --json, where only the result is printed). */
  say: (text: string) => void
  /** A progress line on stderr (`lgsp reconcile: …`), with the time since the command began. */
  progress: (text: string) => void
}

export interface OutputOptions {
  /** Write progress lines (--progress, or stderr is a terminal). */
  progress?: boolean
  stdout?: NodeJS.WritableStream
  stderr?: NodeJS.WritableStream
}

export function output (command: string, json: boolean, options: OutputOptions = {}): Output {
  const { stdout = process.stdout, stderr = process.stderr } = options
  const began = Date.now()
  const progress = (text: string): void => {
    if (options.progress === true) stderr.write(`lgsp ${command}: ${text} (${((Date.now() - began) / 1000).toFixed(1)} s)\n`)
  }
  return {
    json,
    result: (v) => {
      const x = isoTimes(v)
      stdout.write(`${json ? JSON.stringify(x, null, 2) : human(x)}\n`)
    },
    say: (text) => { if (!json) stdout.write(`${text}\n`) },
    progress
  }
}
