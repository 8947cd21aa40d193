import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { loadConfig, resolveConfig } from '../gateway/config.js'
import { LgspError } from '../gateway/errors.js'
import { tempDir, testConfigDocument } from './helpers.js'
import { prerequisites } from '../gateway/startup.js'
import { mkdirSync } from 'node:fs'
import { projectRoot } from '../gateway/paths.js'
import { configReference, referencePath } from '../schemas/config-reference.js'

const doc = (): Record<string, any> => testConfigDocument('/tmp/x', 'http://127.0.0.1:1', 'http://127.0.0.1:2')

const fails = (t: Test, d: unknown, pattern: RegExp, env: NodeJS.ProcessEnv = {}): void => {
  const err = t.throws(() => resolveConfig(d, env)) as unknown as LgspError
  t.equal(err.code, 'LGSP_ERR_CONFIG_INVALID')
  t.match(err.message, pattern)
}

t.test('defaults from the schema are filled in', async (t) => {
  const c = resolveConfig(doc(), {})
  t.equal(c.http.bodyLimitBytes, 1048576)
  t.equal(c.delivery.retry.maxAttempts, 0)
  t.equal(c.members[0]!.enabled, true)
  t.equal((c.destinations.dvcqg as { progressChunk: number }).progressChunk, 10)
})

t.test('environment variables override the file', async (t) => {
  const c = resolveConfig(doc(), {
    LGSP_HTTP_PORT: '9999',
    LGSP_TOKEN_SECRET: 'from-the-environment-0123456789abcdef',
    LGSP_MEMBER_SECRET_ONESTOP_TEST: 'secret-from-env-123456',
    LGSP_DEST_DVCQG_PASSWORD: 'env-password'
  })
  t.equal(c.http.port, 9999)
  t.equal(c.auth.tokenSecret, 'from-the-environment-0123456789abcdef')
  t.equal(c.members.find((m) => m.id === 'onestop-test')!.clientSecret, 'secret-from-env-123456')
  t.equal((c.destinations.dvcqg as { password: string }).password, 'env-password')
})

t.test('invalid configurations are refused with a message that says what to fix', async (t) => {
  fails(t, { ...doc(), extra: 1 }, /extra: unknown key; allowed here: .*profile, .*http/)
  fails(t, { ...doc(), profile: 'production', auth: {} }, /auth.tokenSecret: required in production/)
  const noSecret = doc()
  delete noSecret.members[0].clientSecret
  fails(t, noSecret, /LGSP_MEMBER_SECRET_ONESTOP_TEST/)
  const badDest = doc()
  badDest.members[0].destinations = ['tax']
  fails(t, badDest, /destination "tax" is not in destinations/)
  const badAdapter = doc()
  badAdapter.destinations.dvcqg.adapter = 'ftp'
  fails(t, badAdapter, /destinations\.dvcqg/)
  const noPassword = doc()
  delete noPassword.destinations.dvcqg.password
  fails(t, noPassword, /password/)
  fails(t, [], /must be a JSON object/)
  const poller = doc()
  poller.destinations.gplx = { adapter: 'gplx', url: 'http://127.0.0.1:1', username: 'lgsp', password: 'gplx-pass', donViXuLy: 'SGTVT-H56', poll: { member: 'portal-test' } }
  fails(t, poller, /needs messageKinds "dossier" and "progress"/)
  poller.destinations.gplx.poll.member = 'nobody'
  fails(t, poller, /"nobody" is not a member/)
  // Message kinds are open: the core's and those a component produces (tax-notice is the tax component's).
  const kinds = doc()
  kinds.access.rules = [{ member: 'onestop-test', kinds: ['progress', 'tax-notice'], allDossiers: true }]
  t.same(resolveConfig(kinds, {}).access.rules[0]!.kinds, ['progress', 'tax-notice'], 'a component\'s kind is a kind')
  kinds.access.rules[0].kinds = ['tax-notise']
  fails(t, kinds, /access\.rules\[0\]\.kinds: "tax-notise" is not a message kind \(dossier, progress, .*tax-notice/)
})

t.test('the dev profile makes a token key; production never does', async (t) => {
  const d = doc()
  delete d.auth
  t.equal(resolveConfig(d, {}).auth.tokenSecret!.length, 43)
  fails(t, { ...d, profile: 'production' }, /tokenSecret/)
  // Several instances share the store: each made its own key, none would accept the others' tokens.
  fails(t, { ...d, store: { kind: 'redis' } }, /auth.tokenSecret: required with store.kind "redis"/)
  t.equal(resolveConfig({ ...d, store: { kind: 'redis' } }, { LGSP_TOKEN_SECRET: 'shared-by-the-instances-0123456789ab' }).store.redis.url, 'redis://127.0.0.1:6379')
  t.equal(resolveConfig(d, { LGSP_STORE: 'redis', LGSP_REDIS_URL: 'redis://10.0.0.5:6380', LGSP_INSTANCE: 'gw-a', LGSP_TOKEN_SECRET: 'shared-by-the-instances-0123456789ab' }).store.redis.instance, 'gw-a')
})

t.test('loadConfig reports unreadable and malformed files', async (t) => {
  const dir = tempDir(t)
  const bad = join(dir, 'bad.json')
  writeFileSync(bad, '{ nope')
  t.throws(() => loadConfig(join(dir, 'missing.json'), {}), { code: 'LGSP_ERR_CONFIG_INVALID', message: /--config/ })
  t.throws(() => loadConfig(bad, {}), { code: 'LGSP_ERR_CONFIG_INVALID', message: /not valid JSON/ })
})

t.test('config errors name the key, the allowed keys or values, and the environment variable', async (t) => {
  const typo = doc()
  typo.http = { ...typo.http, prot: 8080 }
  fails(t, typo, /http\.prot: unknown key \(did you mean port\?\); allowed here: .*host, port/)
  const level = doc()
  level.log = { level: 'verbose' }
  fails(t, level, /log\.level: must be one of "fatal", "error", "warn", "info", "debug", "trace"(, "silent")?, not "verbose" \(environment: LGSP_LOG_LEVEL\)/)
  fails(t, doc(), /http\.port: must be <= 65535, not 99999 \(set by LGSP_HTTP_PORT\)/, { LGSP_HTTP_PORT: '99999' })
  fails(t, doc(), /store\.kind: must be one of "sqlite", "redis", not "postgres" \(set by LGSP_STORE\)/, { LGSP_STORE: 'postgres' })
  const noPassword = doc()
  delete noPassword.destinations.dvcqg.password
  fails(t, noPassword, /destinations\.dvcqg\.password: required \(environment: LGSP_DEST_DVCQG_PASSWORD\)/)
})

t.test('every production prerequisite is reported in one run', async (t) => {
  const dir = tempDir(t)
  const notDb = join(dir, 'lgsp.db')
  writeFileSync(notDb, 'this is not a database, it is a note\n')
  const pkiFile = join(dir, 'pki')
  writeFileSync(pkiFile, '')
  const d: Record<string, any> = { ...doc(), profile: 'production', auth: {}, store: { path: notDb }, pki: { dir: join(pkiFile, 'inner') } }
  d.destinations.tax = { adapter: 'tax', url: 'http://127.0.0.1:3', notices: { member: 'onestop-test' } }
  const err = t.throws(() => resolveConfig(d, {})) as unknown as LgspError
  t.equal(err.code, 'LGSP_ERR_CONFIG_INVALID')
  t.match(err.message, /auth\.tokenSecret: required in production/)
  t.match(err.message, /destinations\.tax\.signing: required in production/)
  t.match(err.message, new RegExp(`store\\.path: ${notDb.replace(/[.]/g, '\\.')} is not a SQLite database`))
  t.match(err.message, /pki: the gateway's signing key or certificate is missing/)
  // The same checks without config problems: start-up lists them (LGSP_ERR_STARTUP_PREREQUISITES).
  const dev = resolveConfig({ ...doc(), store: { path: notDb }, pki: { dir: join(pkiFile, 'inner') } }, {})
  const problems = prerequisites(dev)
  t.match(problems, [/store\.path: .* is not a SQLite database/, /pki\.dir: .*pki is a file, not a folder/])
  mkdirSync(join(dir, 'ok'))
  t.same(prerequisites(resolveConfig({ ...doc(), store: { path: join(dir, 'ok', 'new.db') } }, {})), [], 'a new store in a writable folder is fine')
})

t.test('every config property has a description, and docs/config.md is generated from the schema', async (t) => {
  const schema = JSON.parse(readFileSync(join(projectRoot, 'schemas', 'config.schema.json'), 'utf8')) as Record<string, any>
  const missing: string[] = []
  const walk = (node: any, path: string): void => {
    if (node === null || typeof node !== 'object') return
    for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, any>)) {
      if (typeof v.description !== 'string' || v.description === '') missing.push(`${path}${k}`)
      walk(v, `${path}${k}.`)
    }
    if (typeof node.items === 'object') walk(node.items, `${path}[].`)
    if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}*.`)
    for (const [k, v] of Object.entries((node.$defs ?? {}) as Record<string, any>)) walk(v, `$defs.${k}.`)
  }
  walk(schema, '')
  t.same(missing, [], 'no property without a description')
  t.equal(readFileSync(referencePath, 'utf8'), configReference(), 'docs/config.md is current: run npx tsx schemas/config-reference.ts')
})
