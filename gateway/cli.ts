#!/usr/bin/env node
/**
 * The `lgsp` command: run the gateway or the demo, and operate its store.
 *
 *   lgsp start [--config FILE]                 run the gateway (LGSP_CONFIG also names the file)
 *   lgsp demo                                  simulators + gateway on the embedded store
 *   lgsp dlq list [--destination D] [--dossier MaHoSo] [--limit N]
 *   lgsp dlq replay ID                         put a dead-lettered unit back in the queue
 *   lgsp dlq discard ID [--reason TEXT]        drop it so the dossier's later units flow
 *   lgsp queues                                per destination: pending, in flight, dead, delivered
 *   lgsp payments settle [--date yyyy-MM-dd]   one settlement pass (QUERY for pending payments), then the day's report
 *   lgsp indicators --agency A --period P [--drill]     Decision 766 figures (P: 2024-02, 2024-Q1, 2024)
 *   lgsp reconcile --agency A --period P [--repair]      compare with DVCQG (dry run unless --repair)
 *   lgsp members hash-secret                   reads a secret on stdin, prints clientSecretHash
 *
 * The operator commands open the store named by the config directly, so they work while
 * the gateway runs (SQLite WAL) and while it is stopped.
 */
import { parseArgs } from 'node:util'
import { loadConfig } from './config.js'
import { runDemo } from './demo.js'
import { LgspError } from './errors.js'
import { hashSecret } from './members.js'
import { closeOnSignals, openStore, startGateway } from './server.js'
import { AdapterRegistry } from '../adapters/registry.js'
import { createLogger } from './logger.js'
import { Payments } from './payments.js'
import { Statistics } from './statistics.js'
import { vnDate } from './ledger/dates.js'
import { lgspError } from './errors.js'

const usage = `usage: lgsp <start|demo|dlq list|dlq replay ID|dlq discard ID|queues|payments settle|indicators|reconcile|members hash-secret> [--config FILE]`

const out = (v: unknown): void => { process.stdout.write(`${typeof v === 'string' ? v : JSON.stringify(v, null, 2)}\n`) }

async function withStore<T> (file: string, fn: (store: ReturnType<typeof openStore>) => Promise<T>): Promise<T> {
  const store = openStore(loadConfig(file))
  await store.init()
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

async function main (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', default: process.env.LGSP_CONFIG ?? 'lgsp.config.json' },
      destination: { type: 'string' },
      dossier: { type: 'string' },
      limit: { type: 'string', default: '100' },
      reason: { type: 'string', default: 'discarded from the command line' },
      date: { type: 'string', default: vnDate() },
      agency: { type: 'string' },
      period: { type: 'string', default: vnDate().slice(0, 7) },
      drill: { type: 'boolean', default: false },
      repair: { type: 'boolean', default: false }
    }
  })
  const [cmd, sub, arg] = positionals
  const file = values.config
  switch (`${cmd ?? ''} ${cmd === 'dlq' || cmd === 'members' || cmd === 'payments' ? sub ?? '' : ''}`.trim()) {
    case 'start': {
      const gateway = await startGateway(loadConfig(file))
      closeOnSignals(gateway)
      return -1
    }
    case 'demo':
      await runDemo()
      return -1
    case 'dlq list':
      await withStore(file, async (s) => {
        const filter: Parameters<typeof s.listDead>[0] = { limit: Number(values.limit) }
        if (values.destination !== undefined) filter.destination = values.destination
        if (values.dossier !== undefined) filter.maHoSo = values.dossier
        out(await s.listDead(filter))
      })
      return 0
    case 'dlq replay':
    case 'dlq discard': {
      const id = Number(arg)
      if (!Number.isSafeInteger(id) || id <= 0) { out(usage); return 2 }
      const done = await withStore(file, (s) => sub === 'replay' ? s.replayDead(id, Date.now()) : s.discardDead(id, Date.now(), values.reason))
      out(done ? `${sub === 'replay' ? 'replayed' : 'discarded'} ${id}` : `no dead-letter entry ${id}`)
      return done ? 0 : 1
    }
    case 'queues':
      await withStore(file, async (s) => { out(await s.queueStats()) })
      return 0
    case 'payments settle': {
      const config = loadConfig(file)
      if (config.payments === undefined) throw lgspError('LGSP_ERR_CONFIG_INVALID', 'payments is not configured in this file.')
      const paymentsCfg = config.payments
      await withStore(file, async (store) => {
        // Effects are written to the outbox; the running gateway's workers deliver them.
        const adapters = new AdapterRegistry(config.destinations)
        const payments = new Payments(store, adapters, paymentsCfg, createLogger('warn'), () => {})
        try {
          out({ pass: await payments.settle(), report: await payments.report(values.date) })
        } finally {
          await payments.stop()
          await adapters.close()
        }
      })
      return 0
    }
    case 'indicators':
    case 'reconcile': {
      const config = loadConfig(file)
      if (values.agency === undefined) throw lgspError('LGSP_ERR_INDICATORS_AGENCY')
      const agency = values.agency
      await withStore(file, async (store) => {
        // Repairs go into the shared outbox; the running gateway's workers deliver them.
        const adapters = new AdapterRegistry(config.destinations)
        const stats = new Statistics(store, adapters, config, () => {}, createLogger('warn'))
        try {
          out(cmd === 'indicators' ? await stats.indicators(agency, values.period, values.drill) : await stats.reconcile(agency, values.period, values.repair))
        } finally {
          await adapters.close()
        }
      })
      return 0
    }
    case 'members hash-secret': {
      const chunks: Buffer[] = []
      for await (const c of process.stdin) chunks.push(c as Buffer)
      const secret = Buffer.concat(chunks).toString('utf8').trim()
      if (secret.length < 16) { out('the secret must have at least 16 characters'); return 2 }
      out(hashSecret(secret))
      return 0
    }
    default:
      out(usage)
      return 2
  }
}

main(process.argv.slice(2)).then((code) => { if (code >= 0) process.exitCode = code }, (err: unknown) => {
  process.stderr.write(err instanceof LgspError ? `lgsp: ${err.code}: ${err.message}\n` : `lgsp: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
