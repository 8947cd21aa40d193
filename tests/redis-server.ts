/**
 * Real Redis servers for the tests. CI starts one (`.ci/run`) and exports its URL as
 * LGSP_TEST_REDIS_URL; without it, one redis-server per test process is started here on a
 * free loopback port (tests/tools.sh installs redis-server). Each test gets its own key
 * namespace. Tests that restart Redis start their own server with `RedisServer`.
 * Nothing here skips: a missing redis-server fails the test with how to install it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import { freePort } from '../adapters/simulator-kit.js'
import { waitFor } from './helpers.js'

/** Waits (10 s at most) until `redis-cli -p port …args` prints what `ready` accepts. */
async function cliUntil (what: string, port: number, args: string[], ready: (out: string) => boolean, alive: () => void = () => {}): Promise<void> {
  await waitFor(what, () => {
    alive()
    return ready(spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout ?? '')
  }, 10_000)
}

/** A redis-server process of its own, with AOF on (appendfsync always), that can be killed and started again on the same port and data. */
export class RedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'lgsp-redis-'))
  port = 0
  #proc: ChildProcess | undefined

  get url (): string { return `redis://127.0.0.1:${this.port}` }

  async start (extra: string[] = []): Promise<void> {
    if (this.port === 0) this.port = await freePort()
    if (spawnSync('redis-server', ['--version']).error !== undefined) {
      throw new Error('redis-server is not installed: run `bash tests/tools.sh` as root, or `sudo apt-get install -y redis-server`')
    }
    this.#proc = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(this.port), '--dir', this.dir, '--save', '',
      '--appendonly', 'yes', '--appendfsync', 'always', '--protected-mode', 'no', ...extra], { stdio: 'ignore' })
    const proc = this.#proc
    await cliUntil('redis-server started', this.port, ['ping'], (out) => out.trim() === 'PONG', () => {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`)
    })
  }

  /** Lets the test process exit while the server runs (it is killed at exit). */
  unref (): void {
    this.#proc?.unref()
    process.once('exit', () => {
      this.#proc?.kill('SIGKILL')
      rmSync(this.dir, { recursive: true, force: true })
    })
  }

  /** kill -9: what the AOF has fsynced is all that survives. */
  async kill (): Promise<void> {
    const proc = this.#proc
    if (proc === undefined || proc.exitCode !== null) return
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve())
      proc.kill('SIGKILL')
    })
  }

  async stop (): Promise<void> {
    await this.kill()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

let shared: Promise<string> | undefined

/** A Redis URL for this test and a namespace of its own. */
export async function testRedis (t: Test): Promise<{ url: string, namespace: string }> {
  const namespace = `t-${randomBytes(6).toString('hex')}`
  const env = process.env.LGSP_TEST_REDIS_URL
  if (env !== undefined && env !== '') return { url: env, namespace }
  shared ??= (async () => {
    const server = new RedisServer()
    await server.start()
    server.unref()
    return server.url
  })()
  void t
  return { url: await shared, namespace }
}

/** A Redis Cluster of three masters on loopback (no replicas), or a master watched by one Sentinel. */
export class RedisTopology {
  readonly servers: RedisServer[] = []
  readonly #extra: ChildProcess[] = []
  readonly dir = mkdtempSync(join(tmpdir(), 'lgsp-redis-topology-'))

  /** Three cluster-enabled nodes, joined with redis-cli --cluster create; returns their URLs. */
  async cluster (): Promise<string[]> {
    for (let i = 0; i < 3; i++) {
      const s = new RedisServer()
      await s.start(['--cluster-enabled', 'yes', '--cluster-config-file', join(s.dir, 'nodes.conf'), '--cluster-node-timeout', '2000'])
      this.servers.push(s)
    }
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...this.servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' })
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`)
    // Every node must see the cluster whole: one that has not yet answers CLUSTERDOWN.
    for (const s of this.servers) await cliUntil('the cluster ok', s.port, ['cluster', 'info'], (out) => out.includes('cluster_state:ok'))
    return this.servers.map((s) => s.url)
  }

  /** A master and one Sentinel monitoring it as `name`; returns the Sentinel's host:port. */
  async sentinel (name: string): Promise<string> {
    const master = new RedisServer()
    await master.start()
    this.servers.push(master)
    const port = await freePort()
    const conf = join(this.dir, 'sentinel.conf')
    writeFileSync(conf, `port ${port}\nbind 127.0.0.1\nsentinel monitor ${name} 127.0.0.1 ${master.port} 1\n`)
    const proc = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' })
    this.#extra.push(proc)
    await cliUntil('the sentinel watching the master', port, ['sentinel', 'get-master-addr-by-name', name], (out) => out.includes(String(master.port)))
    return `127.0.0.1:${port}`
  }

  async stop (): Promise<void> {
    for (const p of this.#extra) p.kill('SIGKILL')
    for (const s of this.servers) await s.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
