#!/usr/bin/env node
/**
 * The `lgsp` command: run the gateway or the demo, and operate its store.
 *
 * A commander program built from the table in gateway/cli/commands.ts: `lgsp --help` lists
 * the commands, `lgsp <command> --help` explains one, a mistyped command or option gets
 * commander's suggestion. Each command's module is imported only when that command runs, so
 * that `lgsp queues` does not load the HTTP server and `--help` loads nothing but commander.
 * Results are a readable table by default and JSON with `--json`; times are ISO 8601 in both;
 * progress goes to stderr when it is a terminal or `--progress` asks for it.
 *
 * The operator commands open the store named by the config directly, so they work while
 * the gateway runs (SQLite WAL) and while it is stopped. On the Redis store each gateway
 * instance keeps its own log chain: `log verify` checks every chain, `log show` looks in
 * every chain, `log export` needs --chain when there are several.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command as Cmd, CommanderError, Help, Option as CmdOption } from 'commander'
import { projectRoot } from './paths.js'
import { commands, globalOptions, headingOf, type Option } from './cli/commands.js'

function version (): string {
  try {
    return (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

/** The words after `lgsp` that name a command (`dlq list`); '' for the program itself. */
const pathOf = (cmd: Cmd): string => {
  const words: string[] = []
  for (let c: Cmd | null = cmd; c?.parent != null; c = c.parent) words.unshift(c.name())
  return words.join(' ')
}

/** How each command's positional arguments are shown (`MEMBER FILE.p12`). */
const shownArgs = new WeakMap<Cmd, string>()

/**
 * Commander's help, in lgsp's words: option values as `--limit N`, defaults without JSON
 * quotes, and `lgsp --help` listing every command by its full name (`dlq list`) under a
 * heading, rather than the groups alone.
 */
const helpConfiguration: Partial<Help> = {
  showGlobalOptions: true,
  sortSubcommands: false,
  optionTerm (option) {
    const term = option.flags.replace(/<([^>]+)>/g, '$1')
    return option.short === undefined ? `    ${term}` : term
  },
  optionDescription (option) {
    const d = option.defaultValue as unknown
    const shown = d === undefined || d === false || /default/.test(option.description)
    return `${option.description}${shown ? '' : ` (default: ${String(d)})`}`
  },
  visibleGlobalOptions (cmd) {
    return Help.prototype.visibleGlobalOptions.call(this, cmd).filter((o) => o.long !== '--version')
  },
  visibleCommands (cmd) {
    const own = Help.prototype.visibleCommands.call(this, cmd)
    return cmd.parent === null ? own.flatMap((c) => c.commands.length === 0 ? [c] : c.commands) : own
  },
  subcommandTerm (cmd) {
    const args = shownArgs.get(cmd)
    return `${pathOf(cmd)}${args === undefined ? '' : ` ${args}`}`
  }
}

/** Adds an option of the table to a commander command. */
function addOption (cmd: Cmd, name: string, o: Option): void {
  const flags = `${o.short === undefined ? '' : `-${o.short}, `}--${name}${o.type === 'string' ? ` <${o.arg ?? 'VALUE'}>` : ''}`
  const option = new CmdOption(flags, o.help)
  if (o.default !== undefined) option.default(typeof o.default === 'function' ? o.default() : o.default)
  cmd.addOption(option)
}

/** A usage mistake (unknown command or option, missing value): one line, exit 2. */
class UsageError extends Error {}

/**
 * Commander's own errors, rewritten as one line that names the command and where its help
 * is; its suggestion (showSuggestionAfterError) is kept as "Did you mean …?".
 */
function usageError (err: CommanderError, cmd: Cmd): UsageError {
  const path = pathOf(cmd)
  const lgsp = path === '' ? 'lgsp' : `lgsp ${path}`
  const [first = '', hint = ''] = err.message.replace(/^error: /, '').split('\n')
  const alternatives = /\(Did you mean (?:one of )?(.+)\?\)/.exec(hint)?.[1]?.split(', ') ?? []
  const unknownCommand = /^unknown command '(.*)'$/.exec(first)
  if (unknownCommand !== null) {
    const maybe = alternatives.map((a) => `'${lgsp} ${a}'`).join(' or ')
    return new UsageError(`lgsp: '${path === '' ? '' : `${path} `}${unknownCommand[1]!}' is not a command.${maybe === '' ? '' : ` Did you mean ${maybe}?`} See '${lgsp} --help'.`)
  }
  const unknownOption = /^unknown option '(.*)'$/.exec(first)
  const what = unknownOption === null ? first.replace(/'([^']*)'/g, '$1').replace(/<([^>]+)>/g, '$1').replace(/\.$/, '') : `unknown option ${unknownOption[1]!}`
  return new UsageError(`${lgsp}: ${what}.${alternatives.length === 0 ? '' : ` Did you mean ${alternatives.join(' or ')}?`} See '${lgsp} --help'.`)
}

/** Settings every level of the program shares (commander copies them to the commands added after). */
function configure (cmd: Cmd): Cmd {
  return cmd
    .configureHelp(helpConfiguration)
    .helpCommand(false)
    .helpOption('-h, --help', 'show this help')
    .showSuggestionAfterError(true)
    // Help printed because a command is missing (`lgsp dlq`) goes to stdout with the usage; errors are
    // rewritten and printed by main.
    .configureOutput({ writeErr: (s) => process.stdout.write(s), outputError: () => {} })
    .exitOverride((err) => { throw err.code.startsWith('commander.help') || err.code === 'commander.version' ? err : usageError(err, cmd) })
}

/** What a command's options were, by their long names (`password-env`), global ones included. */
function valuesOf (cmd: Cmd): Record<string, string | boolean | undefined> {
  const values: Record<string, string | boolean | undefined> = {}
  for (let c: Cmd | null = cmd; c !== null; c = c.parent) {
    for (const o of c.options) {
      const name = o.long?.replace(/^--/, '')
      if (name !== undefined && !(name in values)) values[name] = c.getOptionValue(o.attributeName()) as string | boolean | undefined
    }
  }
  return values
}

/** The program: the commands of gateway/cli/commands.ts; their modules load only when one runs. */
function program (): Cmd {
  const root = configure(new Cmd('lgsp'))
    .description(`lgsp ${version()}: the provincial integration gateway (LGSP) and its operator commands`)
    .usage('<command> [options]')
    .version(version(), '-V, --version', 'print the version')
    .addHelpText('after', `
'lgsp <command> --help' shows a command's options. The demo's configuration is in
data/lgsp.demo.json once 'npm start' runs: lgsp queues --config data/lgsp.demo.json`)
  for (const [name, o] of Object.entries(globalOptions)) addOption(root, name, o)
  const groups = new Map<string, Cmd>()
  for (const c of commands) {
    const words = c.name.split(' ')
    let parent = root
    if (words.length === 2) {
      const group = words[0]!
      if (!groups.has(group)) {
        const subs = commands.filter((x) => x.name.startsWith(`${group} `)).map((x) => x.name.split(' ')[1]!)
        groups.set(group, configure(root.command(group)).summary(`${subs.join(', ')}`).helpGroup(headingOf(group)).usage(`<${subs.join('|')}> [options]`)
          .addHelpText('after', `\n'lgsp ${group} <command> --help' shows a command's options.`))
      }
      parent = groups.get(group)!
    }
    const cmd = configure(parent.command(words[words.length - 1]!))
      .summary(c.summary)
      .description(c.details === undefined ? c.summary : `${c.summary}\n\n${c.details}`)
      .helpGroup(headingOf(c.name))
      .usage(`${c.args === undefined ? '' : `${c.args} `}[options]`)
    if (c.args !== undefined) {
      shownArgs.set(cmd, c.args)
      // Optional for commander: a missing one gets the command's own sentence (which names what to give).
      for (const a of c.args.replace(/[[\]]/g, '').split(' ')) cmd.argument(`[${a}]`)
    }
    for (const [name, o] of Object.entries(c.options ?? {})) addOption(cmd, name, o)
    if (c.examples !== undefined) cmd.addHelpText('after', `\nExamples:\n${c.examples.map((e) => `  ${e}`).join('\n')}`)
    cmd.action(async (...received: unknown[]) => {
      const self = received[received.length - 1] as Cmd
      const values = valuesOf(self)
      const { output } = await import('./cli/output.js')
      const run = await c.run()
      const code = await run({
        values,
        args: self.args,
        file: String(values.config),
        out: output(c.name, values.json === true, { progress: values.progress === true || process.stderr.isTTY })
      })
      if (code >= 0) process.exitCode = code
    })
  }
  return root
}

/** One sentence for the operator; the stack only with LGSP_DEBUG=1. */
function explain (err: unknown): string {
  const e = err as { name?: string, code?: unknown, message?: string, stack?: string }
  if (err instanceof UsageError) return e.message!
  if (e.name === 'LgspError') return `lgsp: ${String(e.code)}: ${e.message ?? ''}`
  if (e.name === 'PkiError') return `lgsp: ${e.message ?? ''}`
  if (process.env.LGSP_DEBUG === '1') return `lgsp: ${e.stack ?? String(err)}`
  const where = typeof (err as { path?: unknown }).path === 'string' ? ` (${(err as { path: string }).path})` : ''
  return `lgsp: ${e.message ?? String(err)}${where}. Set LGSP_DEBUG=1 to see where it happened.`
}

program().parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // --help and --version exit 0; help shown because the command is missing (`lgsp`, `lgsp dlq`) is a usage mistake.
    process.exitCode = err.code === 'commander.help' ? 2 : err.exitCode
    return
  }
  process.stderr.write(`${explain(err)}\n`)
  process.exitCode = err instanceof UsageError ? 2 : 1
})
