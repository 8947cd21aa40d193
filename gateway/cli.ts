#!/usr/bin/env node
/**
 * The `lgsp` command: run the gateway or the demo, and operate its store.
 *
 * `lgsp --help` lists the commands, `lgsp <command> --help` explains one. Each command's
 * module is imported only when that command runs, so that `lgsp queues` does not load the
 * HTTP server and `--help` loads nothing. Results are a readable table by default and JSON
 * with `--json`; times are ISO 8601 in both; progress goes to stderr.
 *
 * The operator commands open the store named by the config directly, so they work while
 * the gateway runs (SQLite WAL) and while it is stopped. On the Redis store each gateway
 * instance keeps its own log chain: `log verify` checks every chain, `log show` looks in
 * every chain, `log export` needs --chain when there are several.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { projectRoot } from './paths.js'
import type { Runner } from './cli/context.js'

interface Option {
  type: 'string' | 'boolean'
  short?: string
  /** Shown in help as the value's name (`--limit N`). */
  arg?: string
  default?: string | boolean | (() => string)
  help: string
}

interface Command {
  /** The words that name it: `dlq list`. */
  name: string
  /** Positional arguments as help shows them. */
  args?: string
  summary: string
  /** Longer text for `lgsp <command> --help`. */
  details?: string
  options?: Record<string, Option>
  examples?: string[]
  run: () => Promise<Runner>
}

/** Today in Vietnam (UTC+7, no daylight saving), yyyy-MM-dd: the default settlement day. */
const vnToday = (): string => new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10)

const storeOptions: Record<string, Option> = {
  db: { type: 'string', arg: 'FILE', help: 'a SQLite file opened directly instead of the config\'s store (an auditor\'s copy, data/lgsp.db)' }
}
const certOption: Record<string, Option> = {
  cert: { type: 'string', arg: 'PEM', help: 'the gateway certificate to trust (default: the PKI folder\'s gateway/cert.pem)' },
  dir: { type: 'string', arg: 'DIR', help: 'the PKI folder (default: the config\'s pki.dir, else ./data/pki)' }
}
/** Which dead letters `dlq replay|discard` take when no ID is given, why, and who asks. */
const dlqActionOptions: Record<string, Option> = {
  destination: { type: 'string', arg: 'NAME', help: 'every dead letter of this destination' },
  code: { type: 'string', arg: 'CODE', help: 'every dead letter with this error code (LGSP_ERR_…)' },
  dossier: { type: 'string', arg: 'MaHoSo', help: 'every dead letter of this dossier' },
  reason: { type: 'string', arg: 'TEXT', help: 'why (required for discard and for bulk actions; kept in the message log)' },
  as: { type: 'string', arg: 'MEMBER', help: 'the operator recorded in the message log (default cli:<os user>)' }
}
const keyOption: Record<string, Option> = {
  key: { type: 'string', arg: 'ec|rsa', default: 'ec', help: 'key type: ec (ECDSA P-256) or rsa (RSA-2048)' },
  dir: certOption.dir!
}

const commands: Command[] = [
  {
    name: 'start',
    summary: 'run the gateway',
    details: 'Reads the configuration (--config, else LGSP_CONFIG, else ./lgsp.config.json), opens the store, listens, then starts the delivery workers. Anything that fails stops what was started and exits 1 with one sentence saying what to fix. SIGTERM/SIGINT drain and exit 0.',
    run: async () => (await import('./cli/run.js')).start
  },
  {
    name: 'demo',
    summary: 'simulators of DVCQG, PayGov, a one-stop, GPLX and tax, and a gateway on them (npm start)',
    details: 'Writes its configuration (dev profile, demo secrets) to data/lgsp.demo.json so that the other commands reach it: lgsp queues --config data/lgsp.demo.json. LGSP_DATA_DIR moves the data folder; LGSP_HTTP_PORT and LGSP_DEMO_*_PORT the ports.',
    run: async () => (await import('./cli/run.js')).demo
  },
  {
    name: 'queues',
    summary: 'per destination: pending, in flight, dead, delivered, age of the oldest',
    run: async () => (await import('./cli/store.js')).queues
  },
  {
    name: 'dlq list',
    summary: 'dead-lettered deliveries, newest first',
    options: {
      destination: { type: 'string', arg: 'NAME', help: 'only this destination (dvcqg, onestop, …)' },
      dossier: { type: 'string', arg: 'MaHoSo', help: 'only this dossier' },
      limit: { type: 'string', arg: 'N', default: '100', help: 'at most N entries' }
    },
    examples: ['lgsp dlq list --destination dvcqg', 'lgsp dlq list --json | jq \'.[].id\''],
    run: async () => (await import('./cli/store.js')).dlqList
  },
  {
    name: 'dlq replay',
    args: '[ID]',
    summary: 'put a dead-lettered delivery back in its queue (attempts reset), or every one a filter matches',
    details: 'With an ID, that one; else every dead letter matching --destination, --code and --dossier (at least one), with --reason. Each action is written to the message log with the operator (--as, else cli:<os user>).',
    options: dlqActionOptions,
    examples: ['lgsp dlq replay 42', 'lgsp dlq replay --destination dvcqg --code LGSP_ERR_UPSTREAM_UNAVAILABLE --reason "DVCQG back after maintenance"'],
    run: async () => (await import('./cli/store.js')).dlqReplay
  },
  {
    name: 'dlq discard',
    args: '[ID]',
    summary: 'drop a dead-lettered delivery so the dossier\'s later ones flow, or every one a filter matches',
    details: 'A reason is required; it is written to the message log with the operator (--as, else cli:<os user>).',
    options: dlqActionOptions,
    examples: ['lgsp dlq discard 42 --reason "duplicate at source"', 'lgsp dlq discard --dossier 000.00.01.H56-240201-0001 --reason "withdrawn at the one-stop"'],
    run: async () => (await import('./cli/store.js')).dlqDiscard
  },
  {
    name: 'destinations resume',
    args: 'NAME',
    summary: 'resume a destination paused because it refused the gateway\'s credentials',
    details: 'The running gateway resumes it at its next poll (it also resumes by itself once a probe goes through). The request is written to the message log.',
    options: { as: { type: 'string', arg: 'MEMBER', help: 'the operator (default cli:<os user>)' } },
    examples: ['lgsp destinations resume dvcqg'],
    run: async () => (await import('./cli/store.js')).destinationsResume
  },
  {
    name: 'payments settle',
    summary: 'one settlement pass (PayGov QUERY for pending payments), then the day\'s report',
    options: { date: { type: 'string', arg: 'yyyy-MM-dd', default: vnToday, help: 'the report\'s day (default: today in Vietnam)' } },
    run: async () => (await import('./cli/ops.js')).paymentsSettle
  },
  {
    name: 'indicators',
    summary: 'Decision 766 figures for an agency and period',
    options: {
      agency: { type: 'string', arg: 'MaDonVi', help: 'the agency (000.00.00.H56: the whole province)' },
      period: { type: 'string', arg: 'P', default: () => vnToday().slice(0, 7), help: 'a month 2024-02, a quarter 2024-Q1 or a year 2024 (default: this month)' },
      drill: { type: 'boolean', help: 'add the agencies below it' }
    },
    examples: ['lgsp indicators --agency 000.00.00.H56 --period 2024-11 --drill'],
    run: async () => (await import('./cli/ops.js')).indicators
  },
  {
    name: 'reconcile',
    summary: 'compare the ledger with DVCQG (dry run unless --repair)',
    options: {
      agency: { type: 'string', arg: 'MaDonVi', help: 'the agency whose dossiers are compared' },
      period: { type: 'string', arg: 'P', default: () => vnToday().slice(0, 7), help: 'a month, quarter or year (default: this month)' },
      repair: { type: 'boolean', help: 'queue the re-sends (the running gateway delivers them)' }
    },
    examples: ['lgsp reconcile --agency 000.00.00.H56 --period 2024-11 --repair'],
    run: async () => (await import('./cli/ops.js')).reconcile
  },
  {
    name: 'members hash-secret',
    summary: 'read a secret on stdin, print its clientSecretHash for the config',
    examples: ['echo -n \'a-long-member-secret\' | lgsp members hash-secret'],
    run: async () => (await import('./cli/pki.js')).hashSecretCommand
  },
  {
    name: 'certs init',
    summary: 'development CA, gateway certificate and member certificates',
    options: { members: { type: 'string', arg: 'a,b', help: 'member ids (default: the config\'s members)' }, ...keyOption },
    run: async () => (await import('./cli/pki.js')).certsInit
  },
  {
    name: 'certs issue',
    args: 'MEMBER',
    summary: 'a certificate for a member from the development CA',
    options: { ...keyOption, days: { type: 'string', arg: 'N', help: 'validity in days' } },
    run: async () => (await import('./cli/pki.js')).certsIssue
  },
  {
    name: 'certs revoke',
    args: 'MEMBER|SERIAL',
    summary: 'revoke a member certificate and republish the CRL',
    options: { dir: certOption.dir! },
    run: async () => (await import('./cli/pki.js')).certsRevoke
  },
  {
    name: 'certs import',
    args: 'MEMBER FILE.p12',
    summary: 'import a member\'s PKCS#12 (USB token export); the password from --password-env or stdin',
    options: {
      'password-env': { type: 'string', arg: 'VAR', help: 'the environment variable holding the password (never on the command line)' },
      'trust-issuers': { type: 'boolean', help: 'also trust the CA certificates inside the file' },
      dir: certOption.dir!
    },
    examples: ['LGSP_P12_PASSWORD=… lgsp certs import motcua-hcm token.p12 --password-env LGSP_P12_PASSWORD'],
    run: async () => (await import('./cli/pki.js')).certsImport
  },
  {
    name: 'certs trust',
    args: 'CA.pem',
    summary: 'add a CA to the trust store',
    options: { name: { type: 'string', arg: 'NAME', help: 'its name in the trust store (default: the file name)' }, dir: certOption.dir! },
    run: async () => (await import('./cli/pki.js')).certsTrust
  },
  {
    name: 'verify',
    args: 'RECEIPT.json',
    summary: 'check a 202 receipt offline',
    options: { ...certOption, body: { type: 'string', arg: 'FILE', help: 'the request body sent, to check its digest too' } },
    run: async () => (await import('./cli/pki.js')).verify
  },
  {
    name: 'log verify',
    summary: 'check the message log (chain, bodies, checkpoints) in the store or an archive',
    options: { ...storeOptions, archive: { type: 'string', arg: 'FILE', help: 'check an archive from `lgsp log export` instead' }, ...certOption },
    run: async () => (await import('./cli/log.js')).logVerify
  },
  {
    name: 'log export',
    summary: 'archive log entries, checkpoints and certificates for an auditor',
    options: {
      from: { type: 'string', arg: 'ISO', help: 'first time (default: the beginning)' },
      to: { type: 'string', arg: 'ISO', help: 'last time (default: now)' },
      out: { type: 'string', arg: 'FILE', help: 'the archive to write (required)' },
      chain: { type: 'string', arg: 'NAME', help: 'on Redis with several instances: which chain' },
      ...storeOptions,
      ...certOption
    },
    examples: ['lgsp log export --from 2024-11-01 --to 2024-12-01 --out audit.jsonl'],
    run: async () => (await import('./cli/log.js')).logExport
  },
  {
    name: 'log show',
    summary: 'who sent what: a message\'s entries in and out, signatures checked again',
    options: { message: { type: 'string', arg: 'ID', help: 'the messageId (required)' }, ...storeOptions, ...certOption },
    run: async () => (await import('./cli/log.js')).logShow
  }
]

const globalOptions: Record<string, Option> = {
  config: { type: 'string', short: 'c', arg: 'FILE', default: () => process.env.LGSP_CONFIG ?? 'lgsp.config.json', help: 'the configuration file (default: $LGSP_CONFIG, else lgsp.config.json)' },
  json: { type: 'boolean', help: 'print the result as JSON (for scripts)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' }
}

const groups = [...new Set(commands.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!))]

/** Edit distance, for "did you mean". */
function distance (a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
  }
  return d[a.length]![b.length]!
}

/** The closest candidates to a mistyped word (prefixes and near spellings). */
export function suggest (word: string, candidates: readonly string[]): string[] {
  const scored = candidates.map((c) => ({ c, d: c.startsWith(word) && word.length >= 2 ? 0 : distance(word, c) }))
  const best = Math.min(...scored.map((s) => s.d))
  return best <= Math.max(2, Math.floor(word.length / 3)) ? scored.filter((s) => s.d === best).map((s) => s.c) : []
}

const optionLine = (name: string, o: Option): [string, string] => {
  const def = typeof o.default === 'function' ? undefined : o.default
  return [`${o.short === undefined ? '    ' : `-${o.short}, `}--${name}${o.arg === undefined ? '' : ` ${o.arg}`}`, `${o.help}${def === undefined || def === false || /default/.test(o.help) ? '' : ` (default: ${String(def)})`}`]
}

const columns = (rows: Array<[string, string]>): string => {
  const w = Math.max(...rows.map((r) => r[0].length))
  return rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`).join('\n')
}

function version (): string {
  try {
    return (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

function mainHelp (): string {
  const section = (title: string, names: string[]): string => `${title}\n${columns(commands.filter((c) => names.some((n) => c.name === n || c.name.startsWith(`${n} `))).map((c) => [`${c.name}${c.args === undefined ? '' : ` ${c.args}`}`, c.summary]))}`
  return `lgsp ${version()}: the provincial integration gateway (LGSP) and its operator commands

Usage: lgsp <command> [options]

${section('Run', ['start', 'demo'])}

${section('Daily operation', ['queues', 'dlq', 'destinations', 'payments', 'indicators', 'reconcile'])}

${section('Keys, certificates and the message log', ['members', 'certs', 'verify', 'log'])}

Options for every command
${columns(Object.entries(globalOptions).map(([n, o]) => optionLine(n, o)))}
  -V, --version  print the version

'lgsp <command> --help' shows a command's options. The demo's configuration is in
data/lgsp.demo.json once 'npm start' runs: lgsp queues --config data/lgsp.demo.json
`
}

function groupHelp (group: string): string {
  return `Usage: lgsp ${group} <${commands.filter((c) => c.name.startsWith(`${group} `)).map((c) => c.name.split(' ')[1]).join('|')}> [options]

${columns(commands.filter((c) => c.name.startsWith(`${group} `)).map((c) => [`${c.name}${c.args === undefined ? '' : ` ${c.args}`}`, c.summary]))}

'lgsp ${group} <command> --help' shows a command's options.
`
}

function commandHelp (c: Command): string {
  const own = Object.entries(c.options ?? {})
  return `Usage: lgsp ${c.name}${c.args === undefined ? '' : ` ${c.args}`} [options]

${c.summary}${c.details === undefined ? '' : `\n\n${c.details}`}
${own.length === 0 ? '' : `\nOptions\n${columns(own.map(([n, o]) => optionLine(n, o)))}\n`}
Options for every command
${columns(Object.entries(globalOptions).map(([n, o]) => optionLine(n, o)))}
${c.examples === undefined ? '' : `\nExamples\n${c.examples.map((e) => `  ${e}`).join('\n')}\n`}`
}

/** Usage mistakes: printed with a hint, exit code 2. */
class UsageError extends Error {}

/** Finds the command named by the leading words of argv. */
function findCommand (argv: string[]): { command?: Command, group?: string, rest: string[] } {
  // The leading words, skipping option values (`--config FILE queues`).
  const valued = new Set(Object.entries({ ...globalOptions, ...Object.assign({}, ...commands.map((c) => c.options ?? {})) as Record<string, Option> })
    .filter(([, o]) => o.type === 'string').flatMap(([n, o]) => [`--${n}`, ...(o.short === undefined ? [] : [`-${o.short}`])]))
  const words: string[] = []
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    if (valued.has(argv[i]!)) i++
    else if (!argv[i]!.startsWith('-')) words.push(argv[i]!)
  }
  const two = commands.find((c) => c.name === words.join(' ') && words.length === 2 && argv.indexOf(words[0]!) < argv.indexOf(words[1]!))
  const one = commands.find((c) => c.name === words[0])
  const command = two ?? one
  if (command !== undefined) {
    const rest = [...argv]
    for (const w of command.name.split(' ')) rest.splice(rest.indexOf(w), 1)
    return { command, rest }
  }
  if (words[0] !== undefined && groups.includes(words[0])) {
    if (words[1] !== undefined) {
      const subs = commands.filter((c) => c.name.startsWith(`${words[0]} `)).map((c) => c.name.split(' ')[1]!)
      const maybe = suggest(words[1], subs)
      throw new UsageError(`'${words[0]} ${words[1]}' is not a command.${maybe.length > 0 ? ` Did you mean ${maybe.map((m) => `'lgsp ${words[0]} ${m}'`).join(' or ')}?` : ''} See 'lgsp ${words[0]} --help'.`)
    }
    return { group: words[0], rest: argv }
  }
  if (words[0] !== undefined) {
    const maybe = suggest(words[0], [...new Set(commands.map((c) => c.name.split(' ')[0]!))])
    throw new UsageError(`'${words[0]}' is not a command.${maybe.length > 0 ? ` Did you mean ${maybe.map((m) => `'lgsp ${m}'`).join(' or ')}?` : ''} See 'lgsp --help'.`)
  }
  return { rest: argv }
}

async function main (argv: string[]): Promise<number> {
  if (argv.includes('-V') || argv.includes('--version')) { process.stdout.write(`${version()}\n`); return 0 }
  const { command, group, rest } = findCommand(argv)
  const wantsHelp = rest.includes('--help') || rest.includes('-h')
  if (command === undefined) {
    process.stdout.write(group === undefined ? mainHelp() : groupHelp(group))
    // A bare `lgsp` or `lgsp dlq` is a usage mistake; asking for help is not.
    return wantsHelp ? 0 : 2
  }
  if (wantsHelp) { process.stdout.write(commandHelp(command)); return 0 }
  const all = { ...globalOptions, ...command.options }
  const config: ParseArgsConfig['options'] = Object.fromEntries(Object.entries(all).map(([n, o]) => [n, {
    type: o.type,
    ...(o.short === undefined ? {} : { short: o.short }),
    ...(o.default === undefined ? {} : { default: typeof o.default === 'function' ? o.default() : o.default })
  }]))
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: rest, options: config, allowPositionals: true, strict: true })
  } catch (err) {
    const m = /option '([^']+)'/.exec((err as Error).message) ?? /Unknown option '([^']+)'/.exec((err as Error).message)
    const given = m?.[1]?.replace(/^-+/, '').split('=')[0]
    const maybe = given === undefined ? [] : suggest(given, Object.keys(all))
    const code = (err as { code?: string }).code
    const what = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? `unknown option ${m?.[1] ?? ''}` : (err as Error).message.split('\n')[0]!.replace(/\. To specify.*$/, '')
    throw new UsageError(`lgsp ${command.name}: ${what}.${maybe.length > 0 ? ` Did you mean ${maybe.map((x) => `--${x}`).join(' or ')}?` : ''} See 'lgsp ${command.name} --help'.`)
  }
  const values = parsed.values as Record<string, string | boolean | undefined>
  const { output } = await import('./cli/output.js')
  const run = await command.run()
  return await run({ values, args: parsed.positionals, file: String(values.config), out: output(command.name, values.json === true) })
}

/** One sentence for the operator; the stack only with LGSP_DEBUG=1. */
function explain (err: unknown): string {
  const e = err as { name?: string, code?: unknown, message?: string, stack?: string }
  if (err instanceof UsageError) return `${e.message!.startsWith('lgsp ') ? '' : 'lgsp: '}${e.message!}`
  if (e.name === 'LgspError') return `lgsp: ${String(e.code)}: ${e.message ?? ''}`
  if (e.name === 'PkiError') return `lgsp: ${e.message ?? ''}`
  if (process.env.LGSP_DEBUG === '1') return `lgsp: ${e.stack ?? String(err)}`
  const where = typeof (err as { path?: unknown }).path === 'string' ? ` (${(err as { path: string }).path})` : ''
  return `lgsp: ${e.message ?? String(err)}${where}. Set LGSP_DEBUG=1 to see where it happened.`
}

main(process.argv.slice(2)).then((code) => { if (code >= 0) process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`${explain(err)}\n`)
  process.exitCode = err instanceof UsageError ? 2 : 1
})
