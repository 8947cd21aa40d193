/**
 * The shared store for several gateway instances: Redis (the `redis` package), behind the
 * same Store contract as the embedded SQLite store (tests/store/contract.ts runs on both).
 *
 * Accepts: queued and committed once per round trip, like SQLite's group commit. The batch
 * reads its idempotency keys, dossier rows and facts, runs each message's plan in order, and
 * one Lua script (scripts.ts COMMIT) writes them: idempotency key (expiring on the retention
 * horizon), ledger, facts, outbox units and stream tokens, and message-log entries. The
 * script checks that nothing it relies on changed since the read (a key now taken, a dossier
 * version moved by another instance, the log tip) and stops at the first message that fails;
 * the messages before it are committed, the rest go again with the next round trip.
 *
 * Message log: one hash chain per instance (as each X-Road security server keeps its own),
 * because Lua in Redis has no SHA-256 to extend a shared chain inside the atomic step. The
 * instance name is held as a lease while the process runs, so two live processes never
 * write one chain; each chain is verified on its own (`lgsp log verify` checks them all).
 *
 * Deliveries: see scripts.ts. Each destination's streams are partitioned by a hash of
 * MaHoSo, and each partition is leased to one instance at a time, which keeps a dossier's
 * order across instances; a crashed instance's claimed entries are reclaimed by XAUTOCLAIM
 * after `claimTimeoutMs` and delivered again as uncertain.
 *
 * Short field names: stored data, so they stay as they are (renaming them would orphan what
 * a running deployment holds). What each one means, once:
 * - Unit hash `u:<id>` (one delivery unit): `d` destination, `p` stream partition, `m`
 *   MaHoSo, `msg` messageId of the accepted message, `snd` sender (member id), `op`
 *   operation, `pl` payload (JSON), `st` state (pending | inflight | dead), `n` attempts so
 *   far, `un` uncertain (1: an earlier attempt may have reached the destination), `nx` next
 *   attempt not before (ms), `ca` created at (ms), `ec` last error code, `er` last error
 *   text, `fa` dead-lettered at (ms), `e` the stream entry id of the token being delivered.
 * - Dossier hash `d:<MaHoSo>`: `v` ledger version, `row` the dossier row (JSON).
 * - Stream entry in `q:<dest>:<partition>`: `m` MaHoSo (the token of that dossier).
 * - Hashes `stats:<dest>` (pending, inflight, dead, delivered counts) and `meta`
 *   (partitions) use whole words.
 *
 * Ports: payments, idempotency keys, the message log's reading side, dead letters and jobs
 * (cursors, job leases, the shared credential-attempt counter) live beside this file, each
 * with its SQLite twin (../payments/, ../idempotency/, ../message-log/, ../dead-letters/,
 * ../jobs/), on this store's connection (port.ts). Why it is still over 400 lines: the group
 * commit, the ledger, the delivery queues' hot path and the indicator facts are still here,
 * to move out the same way once the branches reworking them (delivery throughput, 766
 * figures) have landed.
 */
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { createClient, createCluster, createSentinel, ErrorReply } from 'redis'
import { LgspError, lgspError } from '../../errors.js'
import { vnMonth } from '../../ledger/dates.js'
import { noCounts, tally, type DossierFacts, type IndicatorCounts, type RuleProfile } from '../../ledger/indicators.js'
import type { DossierEvent, DossierRow } from '../../ledger/plan.js'
import type { DossierState } from '../../ledger/state-machine.js'
import type { Checkpoint, LogAppend, LogEntry } from '../../crypto/message-log.js'
import { ATTEMPTS_KEPT, provinceOf, unitViews, type FinishedUnit, type OpenUnit } from '../shared.js'
import { idempotencyHashOf, idempotencyVerdict, keyReused } from '../rules/idempotency.js'
import { decodeIdempotency, encodeIdempotency, RedisIdempotency } from '../idempotency/redis.js'
import { chainForCommit, RedisMessageLog } from '../message-log/redis.js'
import { RedisPayments } from '../payments/redis.js'
import { RedisDeadLetters } from '../dead-letters/redis.js'
import { RedisJobs } from '../jobs/redis.js'
import { destinationsOf, fieldsOf, num, unitOf, type RedisPort, type Reply } from './port.js'
import type {
  AcceptInput, AcceptResult, AgencyScope, CallbackAnomaly, Completion, DeadFilter, DeadLetter, DeliveryAttempt, DossierView, FactsDeriver, IndicatorRevision,
  LogRange, NewPayment, OutboxItem, Payment, PaymentOutcome, PaymentResult, QueueStats, SettlementReport, Store
} from '../types.js'
import * as scripts from './scripts.js'
import type { AttemptCounter } from '../../members.js'

export interface RedisStoreOptions {
  /** redis://[user:password@]host:port[/db] (rediss:// for TLS); ignored when sentinel or cluster is given. */
  url: string
  /** Sentinel: the master's name and the sentinels (host:port). */
  sentinel?: { name: string, nodes: string[] }
  /** Cluster: seed nodes (redis:// URLs). */
  cluster?: { nodes: string[] }
  /** Key namespace: every key is `{namespace}:…` (one hash slot). */
  namespace: string
  /** This instance: its message-log chain and its consumer name (unique among live instances). */
  instance: string
  /** Delivery partitions per destination; fixed when the namespace is first used. */
  partitions: number
  /** Partition and instance leases expire after this long without renewal. */
  leaseMs: number
  /** A claimed unit idle this long is reclaimed by another instance (longer than any delivery attempt). */
  claimTimeoutMs: number
  /** Idempotency keys expire after this long (the retention horizon). */
  idempotencyMs: number
  connectTimeoutMs: number
  facts?: FactsDeriver
}

/** What the store uses of a client, whichever kind. */
interface Connection { connect: () => Promise<unknown>, close: () => Promise<unknown>, destroy: () => void, on: (e: 'error', f: (err: unknown) => void) => unknown }

/** The one client call the store needs: a raw command, routed to the namespace's slot. */
type Send = (args: string[]) => Promise<Reply>

interface AcceptJob { kind: 'accept', input: AcceptInput, resolve: (r: AcceptResult) => void, reject: (e: unknown) => void }
interface AppendJob { kind: 'append', items: readonly LogAppend[], resolve: (r: LogEntry[]) => void, reject: (e: unknown) => void }
type Job = AcceptJob | AppendJob

/** A batch ready to commit: the COMMIT script's ops, what each committed job gets, and jobs deferred to the next batch. */
interface Prepared { ops: unknown[], committed: Array<{ job: Job, result: unknown }>, later: Job[] }

/** {done} or {done, reason, detail}: see scripts.ts COMMIT. */
type CommitReply = [number, string?, string?]

/** FNV-1a: the delivery partition of a dossier. */
export function partitionOf (maHoSo: string, partitions: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < maHoSo.length; i++) h = Math.imul(h ^ maHoSo.charCodeAt(i), 0x01000193)
  return (h >>> 0) % partitions
}

/** The months (YYYY-MM, Vietnam time) from the one holding `from` to the one holding `to`, both included. */
function monthsBetween (from: number, to: number): string[] {
  const out: string[] = []
  const first = vnMonth(from)
  let y = Number(first.slice(0, 4))
  let m = Number(first.slice(5, 7)) - 1
  // The last representable instant, less Vietnam's offset: "until forever" (8.64e15) is a valid bound.
  const last = vnMonth(Math.min(to, 8.64e15 - 8 * 3600_000))
  for (;;) {
    const label = `${y}-${String(m + 1).padStart(2, '0')}`
    out.push(label)
    if (label >= last || out.length > 1200) return out
    if (++m === 12) { m = 0; y++ }
  }
}

/**
 * Where a dossier's facts are indexed for period queries: the months from its reception to its
 * end (one month per set `fb:<province>:<YYYY-MM>`), and the province's open set while it has
 * not ended. A period's candidates are the union of its months' sets and the open set, a
 * superset of the dossiers that may count; the exact rule is applied to what is read.
 */
export function factIndex (f: DossierFacts): { months: string[], open: boolean } {
  if (f.receivedAt === null) return { months: [], open: false }
  return { months: monthsBetween(f.receivedAt, f.endedAt ?? f.receivedAt), open: f.endedAt === null }
}

const unavailable = (err: unknown): LgspError => lgspError('LGSP_ERR_SERVER_UNAVAILABLE', `The shared store (Redis) did not answer: ${(err as Error).message}`)

export class RedisStore implements Store {
  readonly kind = 'redis'
  /** Deliveries by other instances arrive without a notification: workers poll this often. */
  readonly pollIntervalMs = 100
  readonly #options: RedisStoreOptions
  readonly #prefix: string
  readonly #anchor: string
  readonly #client: Connection
  readonly #send: Send
  /** This process's lease token on its instance name. */
  readonly #token = randomBytes(8).toString('hex')
  #up = false
  #closed = false
  #heartbeat: NodeJS.Timeout | undefined
  readonly #sha = new Map<string, string>()
  // Group commit of accepts and log appends (one COMMIT script per batch; see #flush).
  #queue: Job[] = []
  /** Messages a COMMIT did not take, to go first in the next batch (in their order). */
  #retry: Job[] = []
  #flushing = false
  #tip: { seq: number, hash: string } | undefined
  // Deliveries: leased partitions per destination, and when each was last renewed.
  readonly #leases = new Map<string, { parts: number[], at: number }>()
  /** Partitions whose own pending entries (from before a restart) were taken back. */
  readonly #recovered = new Set<string>()
  readonly #autoclaimAt = new Map<string, number>()
  // The ports kept beside the ledger and the queues, on this store's connection.
  readonly #port: RedisPort
  readonly #log: RedisMessageLog
  readonly #idempotency: RedisIdempotency
  readonly #payments: RedisPayments
  readonly #dead: RedisDeadLetters
  readonly #jobs: RedisJobs
  /** Failed credential checks, counted in Redis so every instance sees every failure (jobs/redis.ts). */
  readonly attempts: AttemptCounter

  constructor (options: RedisStoreOptions) {
    this.#options = options
    this.#prefix = `{${options.namespace}}:`
    this.#anchor = `${this.#prefix}anchor`
    const port: RedisPort = {
      cmd: (args) => this.#cmd(args),
      script: (name, body, args) => this.#eval(name, body, args),
      key: (...parts) => this.#key(...parts),
      instance: options.instance
    }
    this.#port = port
    this.#log = new RedisMessageLog(port)
    this.#idempotency = new RedisIdempotency(port)
    this.#payments = new RedisPayments(port)
    this.#dead = new RedisDeadLetters(port)
    this.#jobs = new RedisJobs(port, `${options.instance}/${this.#token}`)
    this.attempts = this.#jobs.attempts
    // The first connection must succeed at once (a clear start-up error); later ones are retried.
    const reconnectStrategy = (retries: number, cause: Error): number | Error =>
      this.#closed ? new Error('closed') : !this.#up ? cause : Math.min(100 * 2 ** retries, 2000)
    const socket = { connectTimeout: options.connectTimeoutMs, reconnectStrategy }
    const common = { RESP: 2 as const, disableOfflineQueue: true }
    if (options.cluster !== undefined) {
      const c = createCluster({ rootNodes: options.cluster.nodes.map((url) => ({ url })), defaults: { socket, disableOfflineQueue: true }, RESP: 2 })
      this.#client = c as unknown as Connection
      this.#send = (args) => c.sendCommand(this.#anchor, false, args) as Promise<Reply>
    } else if (options.sentinel !== undefined) {
      const s = createSentinel({
        name: options.sentinel.name,
        sentinelRootNodes: options.sentinel.nodes.map((n) => ({ host: n.split(':')[0]!, port: Number(n.split(':')[1] ?? 26379) })),
        nodeClientOptions: { socket, ...common }
      })
      this.#client = s as unknown as Connection
      this.#send = (args) => s.sendCommand(false, args) as Promise<Reply>
    } else {
      const c = createClient({ url: options.url, socket, ...common })
      this.#client = c as unknown as Connection
      this.#send = (args) => c.sendCommand(args) as Promise<Reply>
    }
    // Errors surface through the commands that fail (and readiness); an unhandled 'error' would crash the process.
    this.#client.on('error', () => {})
  }

  get namespace (): string { return this.#options.namespace }

  /** Where the store points, for messages (no password). */
  get target (): string {
    if (this.#options.cluster !== undefined) return `cluster ${this.#options.cluster.nodes.map((u) => u.replace(/\/\/[^@]*@/, '//')).join(', ')}`
    if (this.#options.sentinel !== undefined) return `sentinel ${this.#options.sentinel.name} at ${this.#options.sentinel.nodes.join(', ')}`
    return this.#options.url.replace(/\/\/[^@]*@/, '//')
  }

  async #cmd (args: Array<string | number>): Promise<Reply> {
    if (this.#closed) throw lgspError('LGSP_ERR_SERVER_UNAVAILABLE', 'The store is closed.')
    try {
      return await this.#send(args.map(String))
    } catch (err) {
      // A script's own error or a wrong command is a bug; a Redis loading its data or failing over is an outage.
      if (err instanceof ErrorReply && !/^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN)/.test(err.message)) throw err
      throw unavailable(err)
    }
  }

  /** Runs one of scripts.ts by its SHA. */
  #script (name: Exclude<keyof typeof scripts, 'PRELUDE' | 'DEAD'>, args: Array<string | number>): Promise<Reply> {
    return this.#eval(name, scripts[name], args)
  }

  /** Runs a script by its SHA (loading it on first use or after a Redis restart); `name` keys the SHA cache. */
  async #eval (name: string, body: string, args: Array<string | number>): Promise<Reply> {
    let sha = this.#sha.get(name)
    if (sha === undefined) {
      sha = await this.#cmd(['SCRIPT', 'LOAD', body]) as string
      this.#sha.set(name, sha)
    }
    try {
      return await this.#cmd(['EVALSHA', sha, 1, this.#anchor, this.#prefix, ...args])
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err
      // Redis restarted (its script cache is empty): load it again next time.
      this.#sha.delete(name)
      return await this.#cmd(['EVAL', body, 1, this.#anchor, this.#prefix, ...args])
    }
  }

  #key (...parts: Array<string | number>): string {
    return this.#prefix + parts.join(':')
  }

  async init (): Promise<void> {
    try {
      await this.#client.connect()
    } catch (err) {
      throw lgspError('LGSP_ERR_CONFIG_INVALID', `The store is Redis at ${this.target}, which cannot be reached: ${(err as Error).message}. Start Redis, or fix store.redis (LGSP_REDIS_URL).`)
    }
    this.#up = true
    try {
      await this.#prepareNamespace()
    } catch (err) {
      // A store that failed to start holds no connection: its client would otherwise reconnect forever.
      await this.close()
      throw err
    }
  }

  /** Checks the namespace's partitions, takes this instance's name and indexes old dead letters. */
  async #prepareNamespace (): Promise<void> {
    const meta = this.#key('meta')
    await this.#cmd(['HSETNX', meta, 'partitions', this.#options.partitions])
    const partitions = Number(await this.#cmd(['HGET', meta, 'partitions']))
    if (partitions !== this.#options.partitions) {
      throw lgspError('LGSP_ERR_CONFIG_INVALID', `store.redis.partitions is ${this.#options.partitions}, but namespace "${this.#options.namespace}" was created with ${partitions}; partitions cannot change while the namespace holds data.`)
    }
    await this.#holdInstance()
    await this.#dead.backfill()
    this.#heartbeat = setInterval(() => { this.#holdInstanceName().catch(() => {}) }, Math.max(50, this.#options.leaseMs / 3))
    this.#heartbeat.unref()
  }

  /** Takes this instance's name; waits for a lease left by a killed predecessor to expire. */
  async #holdInstance (): Promise<void> {
    const deadline = Date.now() + this.#options.leaseMs + 1000
    while (!await this.#holdInstanceName()) {
      if (Date.now() > deadline) {
        throw lgspError('LGSP_ERR_CONFIG_INVALID', `Another running gateway uses the instance name "${this.#options.instance}" on this Redis; give each instance its own (store.redis.instance or LGSP_INSTANCE).`)
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }

  /** Takes or renews the lease on this instance's name: false while another process holds it. */
  async #holdInstanceName (): Promise<boolean> {
    return Number(await this.#script('HOLD', [`inst:${this.#options.instance}`, this.#token, this.#options.leaseMs])) === 1
  }

  /** Named lease for a job only one instance runs at a time (pollers, settlement): true while held (jobs/redis.ts). */
  lease (name: string, ttlMs: number): Promise<boolean> { return this.#jobs.lease(name, ttlMs) }

  // ---- accept and the message log: group commit -------------------------------------------

  accept (input: AcceptInput): Promise<AcceptResult> {
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'accept', input, resolve, reject }))
  }

  appendLog (items: readonly LogAppend[]): Promise<LogEntry[]> {
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'append', items, resolve, reject }))
  }

  #enqueue (job: Job): void {
    if (this.#closed) {
      job.reject(lgspError('LGSP_ERR_SERVER_UNAVAILABLE', 'The store is closed.'))
      return
    }
    this.#queue.push(job)
    if (!this.#flushing) {
      this.#flushing = true
      setImmediate(() => { void this.#flush() })
    }
  }

  /**
   * Group commit, pipelined: while one batch's COMMIT is on the wire, the next batch is read
   * and planned. Its reads go out after that COMMIT on the same connection, so Redis answers
   * them with the COMMIT applied; its log entries are chained after the tip that COMMIT will
   * leave if it goes in whole. If it does not, the next COMMIT fails its tip check, writes
   * nothing, and its messages go again.
   */
  async #flush (): Promise<void> {
    let previous: Promise<void> = Promise.resolve()
    while (this.#queue.length > 0 || this.#retry.length > 0) {
      const batch = [...this.#retry, ...this.#queue]
      this.#retry = []
      this.#queue = []
      let prepared: Prepared
      try {
        prepared = await this.#prepare(batch)
      } catch (err) {
        this.#tip = undefined
        for (const j of batch) j.reject(err instanceof LgspError ? err : unavailable(err))
        continue
      }
      const sent = prepared.ops.length === 0 ? Promise.resolve(null) : this.#script('COMMIT', [this.#options.instance, JSON.stringify(prepared.ops)])
      const before = previous
      previous = (async () => {
        await before
        try {
          this.#retry.push(...this.#settle(prepared, await sent as CommitReply | null))
        } catch (err) {
          // Nothing of an unanswered COMMIT is known to be written: its callers get the error.
          this.#tip = undefined
          for (const c of prepared.committed) c.job.reject(err instanceof LgspError ? err : unavailable(err))
          this.#retry.push(...prepared.later)
        }
      })()
      // At most one COMMIT waits while the next batch is prepared; with nothing queued, wait for this one too.
      await before
      if (this.#queue.length === 0 && this.#retry.length === 0) await previous
    }
    this.#flushing = false
  }

  /** Reads what a batch's plans need, plans each message in order, and chains its log entries: the COMMIT's ops. */
  async #prepare (batch: Job[]): Promise<Prepared> {
    // The tip this batch chains after (a COMMIT answered meanwhile may forget it: see #settle).
    const start = this.#tip ?? await this.logTip()
    const accepts = batch.filter((j): j is AcceptJob => j.kind === 'accept')
    const ids = [...new Set(accepts.flatMap((j) => j.input.maHoSo))]
    const [seen, rows, facts, synced] = await Promise.all([
      Promise.all(accepts.map((j) => this.#cmd(['GET', this.#key('idem', j.input.idempotencyKey)]))),
      Promise.all(ids.map((id) => this.#cmd(['HMGET', this.#key('d', id), 'v', 'row']))),
      this.#options.facts === undefined ? [] : Promise.all(ids.map((id) => this.#cmd(['GET', this.#key('f', id)]))),
      this.#options.facts === undefined || ids.length === 0 ? [] : this.#cmd(['SMISMEMBER', this.#key('synced'), ...ids])
    ])
    const seenOf = new Map(accepts.map((j, i) => [j, seen[i] as string | null]))
    const current = new Map<string, DossierRow>()
    const version = new Map<string, string>()
    const factsOf = new Map<string, DossierFacts>()
    ids.forEach((id, i) => {
      const [v, row] = rows[i] as [string | null, string | null]
      version.set(id, v ?? '0')
      if (row !== null) current.set(id, JSON.parse(row) as DossierRow)
      const f = (facts as Array<string | null>)[i]
      if (f !== null && f !== undefined) factsOf.set(id, { ...JSON.parse(f) as DossierFacts, synced: (synced as number[])[i] === 1 })
    })
    const ops: unknown[] = []
    const committed: Array<{ job: Job, result: unknown }> = []
    const later: Job[] = []
    const keys = new Set<string>()
    let tip = start
    for (const job of batch) {
      if (later.length > 0 && job.kind === 'accept' && job.input.maHoSo.some((id) => later.some((l) => l.kind === 'accept' && l.input.maHoSo.includes(id)))) {
        later.push(job)
        continue
      }
      let items: LogAppend[]
      let op: Record<string, unknown> = { t: 'l' }
      let result: unknown
      if (job.kind === 'accept') {
        const input = job.input
        const matchHash = idempotencyHashOf(input)
        const first = seenOf.get(job)
        if (first !== null && first !== undefined) {
          this.#answerRepeat(job, first)
          continue
        }
        // A second use of a key in one batch waits for the first to commit.
        if (keys.has(input.idempotencyKey)) { later.push(job); continue }
        let plan: ReturnType<AcceptInput['plan']>
        try {
          plan = input.plan(new Map(input.maHoSo.flatMap((id) => current.has(id) ? [[id, current.get(id)!]] : [])))
        } catch (err) {
          job.reject(err)
          continue
        }
        keys.add(input.idempotencyKey)
        const reply = plan.reply === undefined ? input.reply : { ...input.reply, ...plan.reply }
        const checks = input.maHoSo.map((id) => [id, version.get(id) ?? '0'])
        const factRows: Array<Array<string | string[]>> = []
        for (const row of plan.change.rows) {
          current.set(row.maHoSo, row)
          version.set(row.maHoSo, String(row.version))
          if (this.#options.facts !== undefined) {
            const f = this.#options.facts(factsOf.get(row.maHoSo), row, plan.change.events.filter((e) => e.maHoSo === row.maHoSo))
            factsOf.set(row.maHoSo, f)
            const { synced: _synced, ...stored } = f
            const index = factIndex(f)
            factRows.push([row.maHoSo, JSON.stringify(stored), provinceOf(f.agency), index.months, index.open ? '1' : '0'])
          }
        }
        items = [{ at: input.receivedAt, direction: 'in', party: input.sender, kind: input.kind, messageId: input.messageId, contentHash: input.contentHash, body: input.body, signature: input.signature ?? null }]
        op = {
          t: 'a',
          key: input.idempotencyKey,
          idem: encodeIdempotency(matchHash, reply),
          ttl: this.#options.idempotencyMs,
          at: input.receivedAt,
          checks,
          rows: plan.change.rows.map((r) => [r.maHoSo, String(r.version), JSON.stringify(r)]),
          events: plan.change.events.map((e) => [e.maHoSo, JSON.stringify(e)]),
          facts: factRows,
          units: plan.outbox.map((o) => [o.destination, String(partitionOf(o.maHoSo, this.#options.partitions)), o.maHoSo, input.messageId, input.sender, o.op, JSON.stringify(o.payload), input.traceId ?? ''])
        }
        result = { replayed: false, reply }
      } else {
        items = [...job.items]
      }
      const { entries, op: logOp, next } = chainForCommit(tip, items)
      ops.push({ ...op, ...logOp })
      committed.push({ job, result: job.kind === 'accept' ? result : entries })
      tip = next
    }
    this.#tip = tip
    return { ops, committed, later }
  }

  /** Answers the messages a COMMIT wrote; returns those to go again. */
  #settle (prepared: Prepared, reply: CommitReply | null): Job[] {
    const { committed, later } = prepared
    const done = reply === null ? 0 : Number(reply[0])
    for (const c of committed.slice(0, done)) (c.job.resolve as (v: unknown) => void)(c.result)
    if (done === committed.length) return later
    // The first that could not go in: a repeat is answered now; the rest go again, re-read and
    // re-chained from the tip as Redis has it.
    this.#tip = undefined
    const stopped = committed[done]!
    const rest = committed.slice(done + 1).map((c) => c.job)
    if (reply?.[1] === 'replay' && stopped.job.kind === 'accept') {
      this.#answerRepeat(stopped.job, reply[2]!)
      return [...rest, ...later]
    }
    return [stopped.job, ...rest, ...later]
  }

  /** A repeat of a committed key: the first reply, or a refusal if the content differs (rules/idempotency.ts). */
  #answerRepeat (job: AcceptJob, stored: string): void {
    const v = idempotencyVerdict(decodeIdempotency(stored), idempotencyHashOf(job.input))
    if (v.verdict === 'replay') job.resolve({ replayed: true, reply: v.reply })
    else job.reject(keyReused('message'))
  }

  // ---- message log (message-log/redis.ts; appends ride the group commit above) --------------

  logTip (): Promise<{ seq: number, hash: string }> { return this.#log.logTip() }
  /** The message-log chains in this namespace (one per instance that ever wrote). */
  chains (): Promise<string[]> { return this.#log.chains() }
  /** The same store, reading another instance's chain (for lgsp log verify/export/show). */
  readChain (chainName: string, range: LogRange): Promise<LogEntry[]> { return this.#log.readChain(chainName, range) }
  readLog (range: LogRange): Promise<LogEntry[]> { return this.#log.readLog(range) }
  saveCheckpoint (c: Checkpoint): Promise<void> { return this.#log.saveCheckpoint(c) }
  checkpoints (fromSeq: number, toSeq: number): Promise<Checkpoint[]> { return this.#log.checkpoints(fromSeq, toSeq) }
  checkpointsOf (chainName: string, fromSeq: number, toSeq: number): Promise<Checkpoint[]> { return this.#log.checkpointsOf(chainName, fromSeq, toSeq) }

  // ---- deliveries ------------------------------------------------------------------------

  /** The partitions of a destination this instance leases now (renewed every third of the lease). */
  async #leased (destination: string, now: number): Promise<number[]> {
    const held = this.#leases.get(destination)
    if (held !== undefined && now - held.at < this.#options.leaseMs / 3) return held.parts
    const parts = (await this.#script('LEASE', [destination, this.#options.instance, now, this.#options.leaseMs, this.#options.partitions]) as number[]).map(Number)
    this.#leases.set(destination, { parts, at: now })
    return parts
  }

  async claim (destination: string, limit: number, now: number): Promise<OutboxItem[]> {
    const parts = await this.#leased(destination, now)
    if (parts.length === 0 || limit <= 0) return []
    // Start at a different partition each time, so that no partition waits behind the others.
    const start = Math.floor(Math.random() * parts.length)
    const args: Array<string | number> = []
    for (let i = 0; i < parts.length; i++) {
      const p = parts[(start + i) % parts.length]!
      const k = `${destination}:${p}`
      let mode = 'n'
      if (!this.#recovered.has(k)) {
        mode = 'r'
        this.#recovered.add(k)
        this.#autoclaimAt.set(k, now)
      } else if (now - (this.#autoclaimAt.get(k) ?? 0) >= this.#options.claimTimeoutMs / 2) {
        mode = 'a'
        this.#autoclaimAt.set(k, now)
      }
      args.push(p, mode)
    }
    const items = await this.#script('CLAIM', [destination, this.#options.instance, now, limit, this.#options.claimTimeoutMs, ...args]) as Reply[][]
    return items.map((raw) => {
      const id = Number(raw[0])
      const u = fieldsOf(raw.slice(1))
      return {
        id,
        destination: u.d!,
        maHoSo: u.m!,
        messageId: u.msg!,
        sender: u.snd ?? '',
        op: u.op!,
        payload: JSON.parse(u.pl!),
        attempts: num(u.n),
        uncertain: u.un === '1',
        createdAt: num(u.ca),
        ...(u.tr === undefined || u.tr === '' ? {} : { traceId: u.tr })
      }
    })
  }

  async complete (completions: readonly Completion[]): Promise<void> {
    if (completions.length === 0) return
    await this.#script('COMPLETE', [this.#options.instance, Date.now(), JSON.stringify(completions), ATTEMPTS_KEPT])
  }

  async nextDueAt (destination: string): Promise<number | undefined> {
    const parts = this.#leases.get(destination)?.parts ?? []
    if (parts.length === 0) return undefined
    const r = await this.#script('NEXT_DUE', [destination, Date.now(), ...parts])
    return r === null ? undefined : Number(r)
  }

  #destinations (): Promise<string[]> { return destinationsOf(this.#port) }

  #unit (id: number | string): Promise<Record<string, string> | undefined> { return unitOf(this.#port, id) }

  // ---- dead letters (dead-letters/redis.ts; attempts are kept by COMPLETE) ------------------

  listDead (filter: DeadFilter): Promise<DeadLetter[]> { return this.#dead.listDead(filter) }
  deadLetter (id: number): Promise<DeadLetter | undefined> { return this.#dead.deadLetter(id) }
  attemptsOf (unit: number): Promise<DeliveryAttempt[]> { return this.#dead.attemptsOf(unit) }
  replayDead (id: number, now: number): Promise<boolean> { return this.#dead.replayDead(id, now) }
  discardDead (id: number, now: number, reason: string): Promise<boolean> { return this.#dead.discardDead(id, now, reason) }
  queueStats (): Promise<QueueStats[]> { return this.#dead.queueStats() }

  async awaitingEvent (destination: string, op: string, kind: string, limit: number): Promise<string[]> {
    const key = this.#key('aw', destination, op)
    const out: string[] = []
    for (let start = 0; out.length < limit; start += 200) {
      const ids = await this.#cmd(['ZRANGE', key, start, start + 199]) as string[]
      if (ids.length === 0) break
      for (const id of ids) {
        const events = await this.#cmd(['LRANGE', this.#key('ev', id), 0, -1]) as string[]
        if (!events.some((e) => (JSON.parse(e) as DossierEvent).kind === kind)) out.push(id)
        if (out.length >= limit) break
      }
    }
    return out
  }

  // ---- dossiers ---------------------------------------------------------------------------

  /** A dossier's current ledger row. */
  async #row (maHoSo: string): Promise<DossierRow | undefined> {
    const row = await this.#cmd(['HGET', this.#key('d', maHoSo), 'row']) as string | null
    return row === null ? undefined : JSON.parse(row) as DossierRow
  }

  async getDossier (maHoSo: string): Promise<DossierView | undefined> {
    const row = await this.#row(maHoSo)
    if (row === undefined) return undefined
    const history = (await this.#cmd(['LRANGE', this.#key('ev', maHoSo), 0, -1]) as string[]).map((e) => JSON.parse(e) as DossierEvent)
    const finished = (await this.#cmd(['LRANGE', this.#key('dl', maHoSo), 0, -1]) as string[]).map((d) => JSON.parse(d) as FinishedUnit)
    const open: OpenUnit[] = []
    for (const destination of await this.#destinations()) {
      for (const id of await this.#cmd(['LRANGE', this.#key('dq', destination, maHoSo), 0, -1]) as string[]) {
        const u = await this.#unit(id)
        if (u === undefined) continue
        open.push({
          id: Number(id), destination, messageId: u.msg!, op: u.op!, state: u.st as OpenUnit['state'], attempts: num(u.n), nextAt: num(u.nx),
          lastErrorCode: u.ec ?? null, lastError: u.er ?? null
        })
      }
    }
    return { row, history, deliveries: unitViews(finished, open) }
  }

  async dossierState (maHoSo: string): Promise<{ owner: string, state: DossierState } | undefined> {
    const row = await this.#row(maHoSo)
    return row === undefined ? undefined : { owner: row.owner, state: row.state }
  }

  async dossierRows (maHoSo: readonly string[]): Promise<DossierRow[]> {
    return (await Promise.all(maHoSo.map((id) => this.#row(id)))).filter((r): r is DossierRow => r !== undefined)
  }

  // ---- indicators -------------------------------------------------------------------------

  async factsFor (scope: AgencyScope, from: number, to: number): Promise<DossierFacts[]> {
    const provinces = 'suffix' in scope ? [scope.suffix.replace(/^\./, '')] : [...new Set(scope.codes.map(provinceOf))]
    const agencies = 'codes' in scope ? new Set(scope.codes) : undefined
    const months = to > from ? monthsBetween(from, to - 1) : []
    const out: DossierFacts[] = []
    for (const province of provinces) {
      const ids = months.length === 0 ? [] : await this.#cmd(['SUNION', this.#key('fo', province), ...months.map((m) => this.#key('fb', province, m))]) as string[]
      const chunks: string[][] = []
      for (let i = 0; i < ids.length; i += 2000) chunks.push(ids.slice(i, i + 2000))
      // Every chunk at once: the client pipelines them on the connection.
      const read = await Promise.all(chunks.map(async (chunk) => await Promise.all([
        this.#cmd(['MGET', ...chunk.map((id) => this.#key('f', id))]) as Promise<Array<string | null>>,
        this.#cmd(['SMISMEMBER', this.#key('synced'), ...chunk]) as Promise<number[]>
      ])))
      for (const [facts, synced] of read) {
        facts.forEach((text, j) => {
          if (text === null) return
          const f = { ...JSON.parse(text) as DossierFacts, synced: synced[j] === 1 }
          if (agencies !== undefined && !agencies.has(f.agency)) return
          if (f.receivedAt === null || f.receivedAt >= to || (f.endedAt !== null && f.endedAt < from)) return
          out.push(f)
        })
      }
    }
    return out
  }

  /** The counts by the one set of rules (tally) over the facts read. */
  async countFacts (scope: AgencyScope, from: number, to: number, profile?: RuleProfile): Promise<IndicatorCounts> {
    const c = noCounts()
    for (const f of await this.factsFor(scope, from, to)) tally(c, f, { from, to }, profile)
    return c
  }

  async markSynced (maHoSo: readonly string[]): Promise<void> {
    if (maHoSo.length > 0) await this.#cmd(['SADD', this.#key('synced'), ...maHoSo])
  }

  async latestRevision (agency: string, period: string): Promise<IndicatorRevision | undefined> {
    const key = this.#key('rev', agency, period)
    const [n, last] = await Promise.all([this.#cmd(['LLEN', key]), this.#cmd(['LINDEX', key, -1])])
    if (last === null) return undefined
    return { ...JSON.parse(last as string) as Omit<IndicatorRevision, 'revision'>, revision: Number(n) }
  }

  async revisions (agency: string, period: string): Promise<IndicatorRevision[]> {
    const all = await this.#cmd(['LRANGE', this.#key('rev', agency, period), 0, -1]) as string[]
    return all.map((r, i) => ({ ...JSON.parse(r) as Omit<IndicatorRevision, 'revision'>, revision: i + 1 }))
  }

  async saveRevision (r: Omit<IndicatorRevision, 'revision'>): Promise<IndicatorRevision> {
    const revision = Number(await this.#cmd(['RPUSH', this.#key('rev', r.agency, r.period), JSON.stringify(r)]))
    return { ...r, revision }
  }

  // ---- payments (payments/redis.ts) --------------------------------------------------------

  createPayment (p: NewPayment): Promise<{ created: boolean, payment: Payment }> { return this.#payments.createPayment(p) }
  setPaymentInit (reference: string, result: { url: string } | { error: string }, at: number): Promise<void> { return this.#payments.setPaymentInit(reference, result, at) }
  getPayment (reference: string): Promise<Payment | undefined> { return this.#payments.getPayment(reference) }
  paidPaymentOf (maHoSo: string): Promise<Payment | undefined> { return this.#payments.paidPaymentOf(maHoSo) }
  applyPaymentResult (r: PaymentResult): Promise<{ outcome: PaymentOutcome, payment: Payment }> { return this.#payments.applyPaymentResult(r) }
  callbackReply (key: string): Promise<unknown> { return this.#payments.callbackReply(key) }
  saveCallbackReply (key: string, reference: string, reply: unknown, at: number): Promise<void> { return this.#payments.saveCallbackReply(key, reference, reply, at) }
  recordAnomaly (a: CallbackAnomaly): Promise<void> { return this.#payments.recordAnomaly(a) }
  duePayments (before: number, limit: number): Promise<Payment[]> { return this.#payments.duePayments(before, limit) }
  markQueried (reference: string, at: number): Promise<void> { return this.#payments.markQueried(reference, at) }
  paymentsAwaitingEffect (limit: number): Promise<Payment[]> { return this.#payments.paymentsAwaitingEffect(limit) }
  setPaymentEffect (reference: string, messageId: string): Promise<void> { return this.#payments.setPaymentEffect(reference, messageId) }
  settlement (from: number, to: number): Promise<SettlementReport> { return this.#payments.settlement(from, to) }

  // ---- jobs (jobs/redis.ts; lease and attempts are above, beside the instance's own lease) --

  getCursor (key: string): Promise<string | undefined> { return this.#jobs.getCursor(key) }
  setCursor (key: string, value: string): Promise<void> { return this.#jobs.setCursor(key, value) }

  // ---- the rest ---------------------------------------------------------------------------

  /** Keys expire by themselves on the horizon; this removes those older than `olderThan` now. */
  purgeIdempotency (olderThan: number): Promise<number> { return this.#idempotency.purge(olderThan) }

  async ping (): Promise<boolean> {
    if (this.#closed) return false
    try {
      return await this.#cmd(['PING']) === 'PONG'
    } catch {
      return false
    }
  }

  async close (): Promise<void> {
    if (this.#closed) return
    while (this.#flushing) await new Promise((resolve) => setTimeout(resolve, 5))
    clearInterval(this.#heartbeat)
    try {
      // Give the leases back so that the others take the partitions at once.
      for (const [destination, held] of this.#leases) {
        for (const p of held.parts) await this.#script('RELEASE', [`lease:${destination}:${p}`, this.#options.instance])
        await this.#cmd(['ZREM', this.#key('live', destination), this.#options.instance])
      }
      await this.#script('RELEASE', [`inst:${this.#options.instance}`, this.#token])
    } catch { /* Redis is gone: the leases expire by themselves. */ }
    this.#closed = true
    try {
      await this.#client.close()
    } catch {
      this.#client.destroy()
    }
  }
}

/** The default instance name: host and HTTP port (unique per machine, the same after a restart). */
export const defaultInstance = (port: number): string => `${hostname()}:${port}`
