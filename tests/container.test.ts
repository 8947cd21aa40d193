/**
 * The container image, checked without a Docker daemon (none runs here): the Dockerfile's
 * runtime stage is read, and the same tree is built by hand in a temporary folder: only
 * what its COPY lines copy (package.json, dist, schemas) and the production dependencies
 * (what `npm prune --omit=dev` keeps, from package-lock.json), owned by root and read-only
 * to the gateway. The gateway then runs from it as an unprivileged user, with the image's
 * environment, its working folder as the volume, and no configuration: the demo must start
 * and write its defaults under the volume.
 *
 * What this does not check: the build stage itself (npm ci, compiling better-sqlite3),
 * the base image, HEALTHCHECK timing, and `docker run -p` port publishing.
 */
import { execFile, spawn } from 'node:child_process'
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { request } from 'undici'
import { freePort } from '../adapters/simulator-kit.js'
import { projectRoot } from '../gateway/paths.js'
import { tempDir, waitFor } from './helpers.js'

const run = promisify(execFile)
const dockerfile = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ')
const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '))

/** `ENV A=1 B=2` lines of the runtime stage. */
const envOf = (stage: string): Record<string, string> => Object.fromEntries(
  [...stage.matchAll(/^ENV (.+)$/gm)].flatMap((m) => [...m[1]!.matchAll(/(\w+)=(\S+)/g)].map((x) => [x[1]!, x[2]!])))

t.test('the Dockerfile runs pruned, as a non-root user, from its volume, listening on every interface', async (t) => {
  t.match(dockerfile, /npm prune --omit=dev/, 'the build stage prunes the dev dependencies')
  t.match(runtime, /^USER node$/m, 'runs as the unprivileged node user')
  const volume = /^VOLUME \["([^"]+)"\]$/m.exec(runtime)?.[1]
  const workdirs = [...runtime.matchAll(/^WORKDIR (\S+)$/gm)].map((m) => m[1])
  t.equal(workdirs.at(-1), volume, 'the working folder is the volume: the defaults (./data/…) land in it')
  t.match(runtime, new RegExp(`chown node:node ${volume ?? '-'}`), 'the volume belongs to the user')
  const env = envOf(runtime)
  t.equal(env.LGSP_HTTP_HOST, '0.0.0.0', 'reachable through the published port, not only inside')
  t.equal(env.LGSP_HTTP_PORT, /^EXPOSE (\d+)$/m.exec(runtime)?.[1])
  t.ok(env.LGSP_CONFIG?.startsWith(`${volume ?? '-'}/`), 'a production config is read from the volume')
  t.match(runtime, /^CMD \["demo"\]$/m, 'docker run with no command serves the demo')
  t.match(runtime, /HEALTHCHECK .*\/readyz/, 'the health check asks /readyz')
})

t.test('the runtime tree starts the demo as an unprivileged user with the image\'s defaults', { skip: process.getuid?.() !== 0 ? 'needs root to drop to nobody' : false }, async (t) => {
  const root = tempDir(t, 'lgsp-image-')
  chmodSync(root, 0o755)
  const app = join(root, 'app')
  const volume = join(root, 'var-lib-lgsp')
  mkdirSync(app)
  // The runtime stage's COPY --from=build lines.
  const copies = [...runtime.matchAll(/^COPY --from=build \/app\/(\S+) (\S+)$/gm)].map((m) => m[1]!)
  t.same(copies.sort(), ['dist', 'node_modules', 'package.json', 'schemas'])
  for (const c of copies.filter((c) => c !== 'node_modules')) cpSync(join(projectRoot, c), join(app, c), { recursive: true })
  // What `npm prune --omit=dev` keeps: the lock file's packages not marked dev (hard links, no copy).
  const lock = JSON.parse(readFileSync(join(projectRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean, devOptional?: boolean }> }
  const kept = Object.entries(lock.packages).filter(([k, v]) => k.startsWith('node_modules/') && v.dev !== true && v.devOptional !== true).map(([k]) => k)
  const source = join(projectRoot, 'node_modules')
  for (const k of kept.sort()) {
    const from = join(source, k.slice('node_modules/'.length))
    if (!existsSync(from) || existsSync(join(app, k))) continue
    mkdirSync(join(app, k, '..'), { recursive: true })
    await run('cp', ['-al', from, join(app, k)])
  }
  t.notOk(existsSync(join(app, 'node_modules', 'tap')), 'no dev dependency in the tree')
  t.notOk(existsSync(join(app, 'node_modules', 'typescript')))
  // /app is root's; only the volume is the user's (nobody here, node in the image).
  mkdirSync(volume)
  chownSync(volume, 65534, 65534)
  const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()))
  const env: Record<string, string> = { ...envOf(runtime), LGSP_CONFIG: join(volume, 'lgsp.config.json'), PATH: process.env.PATH ?? '', HOME: volume }
  env.LGSP_HTTP_PORT = String(ports[0])
  const demoPorts = { LGSP_DEMO_DVCQG_PORT: ports[1], LGSP_DEMO_ONESTOP_PORT: ports[2], LGSP_DEMO_PAYGOV_PORT: ports[3], LGSP_DEMO_GPLX_PORT: ports[4], LGSP_DEMO_TAX_PORT: ports[5] }
  const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(app, 'dist', 'gateway', 'cli.js'), /^CMD \["(\w+)"\]$/m.exec(runtime)![1]!], {
    cwd: volume,
    env: { ...env, ...Object.fromEntries(Object.entries(demoPorts).map(([k, v]) => [k, String(v)])) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  t.teardown(() => { child.kill('SIGKILL') })
  try {
    await waitFor('the demo ready', async () => {
      if (child.exitCode !== null) throw new Error(`the demo exited ${child.exitCode}:\n${output}`)
      try { return (await request(`http://127.0.0.1:${ports[0]}/readyz`)).statusCode === 200 } catch { return false }
    }, 60_000)
  } catch (err) {
    t.comment(output)
    throw err
  }
  // Fastify logs one line per address when bound to 0.0.0.0: one that is not loopback shows it.
  t.match(output, new RegExp(`Server listening at http://(?!127\\.)[0-9.]+:${ports[0]}`), 'listens on every interface, not only loopback')
  const data = join(volume, 'data')
  for (const f of ['lgsp.db', 'lgsp.demo.json', 'pki']) {
    t.ok(existsSync(join(data, f)), `${f} written under the volume`)
    t.equal(statSync(join(data, f)).uid, 65534, `${f} owned by the unprivileged user`)
  }
  t.equal(statSync(join(data, 'lgsp.demo.json')).mode & 0o777, 0o600, 'the demo config (secrets inside) is private')
  t.same(readdirSync(app).sort(), ['dist', 'node_modules', 'package.json', 'schemas'], 'nothing written into /app')
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'SIGTERM drains and exits 0')
})
