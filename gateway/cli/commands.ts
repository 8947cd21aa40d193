/**
 * The `lgsp` commands as data: names, arguments, options with their help, examples, and the
 * module that runs each (imported only when it runs). gateway/cli.ts builds the commander
 * program from this table; tests/cli-help.test.ts checks every command's help against it.
 */
import type { Runner } from './context.js'
import { vnDate } from '../ledger/dates.js'

export interface Option {
  type: 'string' | 'boolean'
  short?: string
  /** Shown in help as the value's name (`--limit N`). */
  arg?: string
  default?: string | boolean | (() => string)
  help: string
}

export interface Command {
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
const vnToday = (): string => vnDate()

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

export const commands: Command[] = [
  {
    name: 'start',
    summary: 'run the gateway',
    details: 'Reads the configuration (--config, else LGSP_CONFIG, else ./lgsp.config.json), opens the store, listens, then starts the delivery workers. Anything that fails stops what was started and exits 1 with one sentence saying what to fix. SIGTERM/SIGINT drain and exit 0.',
    run: async () => (await import('./run.js')).start
  },
  {
    name: 'demo',
    summary: 'simulators of DVCQG, PayGov, a one-stop, GPLX and tax, and a gateway on them (npm start)',
    details: 'Writes its configuration (dev profile, demo secrets) to data/lgsp.demo.json so that the other commands reach it: lgsp queues --config data/lgsp.demo.json. LGSP_DATA_DIR moves the data folder; LGSP_HTTP_PORT and LGSP_DEMO_*_PORT the ports.',
    run: async () => (await import('./run.js')).demo
  },
  {
    name: 'queues',
    summary: 'per destination: pending, in flight, dead, delivered, age of the oldest',
    run: async () => (await import('./store.js')).queues
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
    run: async () => (await import('./store.js')).dlqList
  },
  {
    name: 'dlq replay',
    args: '[ID]',
    summary: 'put a dead-lettered delivery back in its queue (attempts reset), or every one a filter matches',
    details: 'With an ID, that one; else every dead letter matching --destination, --code and --dossier (at least one), with --reason. Each action is written to the message log with the operator (--as, else cli:<os user>).',
    options: dlqActionOptions,
    examples: ['lgsp dlq replay 42', 'lgsp dlq replay --destination dvcqg --code LGSP_ERR_UPSTREAM_UNAVAILABLE --reason "DVCQG back after maintenance"'],
    run: async () => (await import('./store.js')).dlqReplay
  },
  {
    name: 'dlq discard',
    args: '[ID]',
    summary: 'drop a dead-lettered delivery so the dossier\'s later ones flow, or every one a filter matches',
    details: 'A reason is required; it is written to the message log with the operator (--as, else cli:<os user>).',
    options: dlqActionOptions,
    examples: ['lgsp dlq discard 42 --reason "duplicate at source"', 'lgsp dlq discard --dossier 000.00.01.H56-240201-0001 --reason "withdrawn at the one-stop"'],
    run: async () => (await import('./store.js')).dlqDiscard
  },
  {
    name: 'destinations resume',
    args: 'NAME',
    summary: 'resume a destination paused because it refused the gateway\'s credentials',
    details: 'The running gateway resumes it at its next poll (it also resumes by itself once a probe goes through). The request is written to the message log.',
    options: { as: { type: 'string', arg: 'MEMBER', help: 'the operator (default cli:<os user>)' } },
    examples: ['lgsp destinations resume dvcqg'],
    run: async () => (await import('./store.js')).destinationsResume
  },
  {
    name: 'payments settle',
    summary: 'one settlement pass (PayGov QUERY for pending payments), then the day\'s report',
    options: { date: { type: 'string', arg: 'yyyy-MM-dd', default: vnToday, help: 'the report\'s day (default: today in Vietnam)' } },
    run: async () => (await import('./ops.js')).paymentsSettle
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
    run: async () => (await import('./ops.js')).indicators
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
    run: async () => (await import('./ops.js')).reconcile
  },
  {
    name: 'members hash-secret',
    summary: 'read a secret on stdin, print its clientSecretHash for the config',
    examples: ['echo -n \'a-long-member-secret\' | lgsp members hash-secret'],
    run: async () => (await import('./pki.js')).hashSecretCommand
  },
  {
    name: 'certs init',
    summary: 'development CA, gateway certificate and member certificates',
    options: { members: { type: 'string', arg: 'a,b', help: 'member ids (default: the config\'s members)' }, ...keyOption },
    run: async () => (await import('./pki.js')).certsInit
  },
  {
    name: 'certs issue',
    args: 'MEMBER',
    summary: 'a certificate for a member from the development CA',
    options: { ...keyOption, days: { type: 'string', arg: 'N', help: 'validity in days' } },
    run: async () => (await import('./pki.js')).certsIssue
  },
  {
    name: 'certs revoke',
    args: 'MEMBER|SERIAL',
    summary: 'revoke a member certificate and republish the CRL',
    options: { dir: certOption.dir! },
    run: async () => (await import('./pki.js')).certsRevoke
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
    run: async () => (await import('./pki.js')).certsImport
  },
  {
    name: 'certs trust',
    args: 'CA.pem',
    summary: 'add a CA to the trust store',
    options: { name: { type: 'string', arg: 'NAME', help: 'its name in the trust store (default: the file name)' }, dir: certOption.dir! },
    run: async () => (await import('./pki.js')).certsTrust
  },
  {
    name: 'verify',
    args: 'RECEIPT.json',
    summary: 'check a 202 receipt offline',
    options: { ...certOption, body: { type: 'string', arg: 'FILE', help: 'the request body sent, to check its digest too' } },
    run: async () => (await import('./pki.js')).verify
  },
  {
    name: 'log verify',
    summary: 'check the message log (chain, bodies, checkpoints) in the store or an archive',
    options: { ...storeOptions, archive: { type: 'string', arg: 'FILE', help: 'check an archive from `lgsp log export` instead' }, ...certOption },
    run: async () => (await import('./log.js')).logVerify
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
    run: async () => (await import('./log.js')).logExport
  },
  {
    name: 'log show',
    summary: 'who sent what: a message\'s entries in and out, signatures checked again',
    options: { message: { type: 'string', arg: 'ID', help: 'the messageId (required)' }, ...storeOptions, ...certOption },
    run: async () => (await import('./log.js')).logShow
  }
]

export const globalOptions: Record<string, Option> = {
  config: { type: 'string', short: 'c', arg: 'FILE', default: () => process.env.LGSP_CONFIG ?? 'lgsp.config.json', help: 'the configuration file (default: $LGSP_CONFIG, else lgsp.config.json)' },
  json: { type: 'boolean', help: 'print the result as JSON (for scripts)' },
  progress: { type: 'boolean', help: 'progress lines on stderr even when it is not a terminal (long commands: reconcile, log verify/export, payments settle)' }
}

/** Headings of `lgsp --help`, by a command's first word. */
const headings: Record<string, string> = {
  start: 'Run:',
  demo: 'Run:',
  members: 'Keys, certificates and the message log:',
  certs: 'Keys, certificates and the message log:',
  verify: 'Keys, certificates and the message log:',
  log: 'Keys, certificates and the message log:'
}
export const headingOf = (name: string): string => headings[name.split(' ')[0]!] ?? 'Daily operation:'
