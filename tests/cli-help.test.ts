/**
 * `lgsp <command> --help` for every command of the table (gateway/cli/commands.ts) lists its
 * own options and the global ones; a typo anywhere gets commander's suggestion and a
 * non-zero exit, without a stack.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { projectRoot } from '../gateway/paths.js'
import { commands, globalOptions } from '../gateway/cli/commands.js'
import { lgspBare } from './helpers.js'

const run = promisify(execFile)
const cli = join(projectRoot, 'dist', 'gateway', 'cli.js')

const lgsp = lgspBare

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

t.test('every command and group answers --help with exit 0 and lists its options', async (t) => {
  for (const c of commands) {
    const help = await lgsp(...c.name.split(' '), '--help')
    t.equal(help.code, 0, `lgsp ${c.name} --help exits 0`)
    t.equal(help.stderr, '', `lgsp ${c.name} --help writes nothing on stderr`)
    t.match(help.stdout, new RegExp(`^Usage: lgsp ${escape(c.name)}${c.args === undefined ? '' : ` ${escape(c.args)}`} \\[options\\]`), `${c.name}: usage`)
    for (const [name, o] of Object.entries({ ...c.options, ...globalOptions })) {
      t.match(help.stdout, new RegExp(`--${escape(name)}${o.type === 'string' ? ` ${escape(o.arg ?? '')}` : ''}\\s+${escape(o.help.split(' ').slice(0, 3).join(' '))}`), `${c.name} --help lists --${name}`)
    }
    for (const e of c.examples ?? []) t.ok(help.stdout.includes(e), `${c.name} --help shows the example ${e}`)
  }
  for (const group of new Set(commands.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!))) {
    const help = await lgsp(group, '-h')
    t.equal(help.code, 0, `lgsp ${group} -h exits 0`)
    for (const c of commands.filter((x) => x.name.startsWith(`${group} `))) t.match(help.stdout, new RegExp(`\\n  ${escape(c.name)}\\b`), `lgsp ${group} -h lists ${c.name}`)
  }
})

t.test('a typo gets a suggestion and a non-zero exit', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['queus'], /Did you mean 'lgsp queues'\?/],
    [['indicator', '--agency', 'x'], /Did you mean 'lgsp indicators'\?/],
    [['certs', 'isue', 'm'], /Did you mean 'lgsp certs issue'\?/],
    [['log', 'verfy'], /Did you mean 'lgsp log verify'\?/],
    [['destinations', 'resme', 'dvcqg'], /Did you mean 'lgsp destinations resume'\?/],
    [['reconcile', '--agnecy', 'x'], /lgsp reconcile: unknown option --agnecy\. Did you mean --agency\?/],
    [['dlq', 'replay', '--destinaton', 'dvcqg'], /Did you mean --destination\?/],
    [['queues', '--jsn'], /Did you mean --json\?/]
  ]
  for (const [args, suggestion] of cases) {
    const r = await lgsp(...args)
    t.not(r.code, 0, `lgsp ${args.join(' ')} exits non-zero`)
    t.match(r.stderr, suggestion, `lgsp ${args.join(' ')}: ${String(suggestion)}`)
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack')
    t.equal(r.stdout, '', 'nothing on stdout')
  }
  const value = await lgsp('dlq', 'list', '--limit')
  t.equal(value.code, 2, 'an option without its value is a usage mistake')
  t.match(value.stderr, /^lgsp dlq list: option --limit N argument missing\. See 'lgsp dlq list --help'\.\n$/)
})
