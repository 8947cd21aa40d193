/**
 * The gateway's configuration: a JSON file validated by schemas/config.schema.json (which
 * holds every default), then overridden by the environment variables below. Secrets have
 * no default outside the dev profile.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { ErrorObject } from 'ajv/dist/2020.js'
import type { GatewayConfig } from '../schemas/types.js'
import { lgspError } from './errors.js'
import { schemaDir } from './paths.js'
import { prerequisites } from './startup.js'
import { compileSchema, validators } from './validation.js'
import type { ComponentConfig } from '../adapters/component.js'
import { allComponents, componentOf, isBuiltIn } from '../adapters/components.js'

export type { GatewayConfig } from '../schemas/types.js'

/** Upper-case env name part: `onestop-hcm` → `ONESTOP_HCM`. */
export const envName = (id: string): string => id.toUpperCase().replace(/[^A-Z0-9]/g, '_')

type Json = Record<string, unknown>

/** Environment overrides, applied to the raw document before validation. */
function applyEnv (doc: Json, env: NodeJS.ProcessEnv): Json {
  const out = structuredClone(doc)
  const section = (name: string): Json => {
    const v = out[name]
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Json
    out[name] = {}
    return out[name] as Json
  }
  const set = (name: string | undefined, apply: (v: string) => void): void => {
    if (name !== undefined && name !== '') apply(name)
  }
  set(env.LGSP_PROFILE, (v) => { out.profile = v })
  set(env.LGSP_HTTP_HOST, (v) => { section('http').host = v })
  set(env.LGSP_HTTP_PORT, (v) => { section('http').port = Number(v) })
  set(env.LGSP_STORE_PATH, (v) => { section('store').path = v })
  set(env.LGSP_STORE, (v) => { section('store').kind = v })
  const redis = (): Json => {
    const store = section('store')
    if (store.redis === null || typeof store.redis !== 'object') store.redis = {}
    return store.redis as Json
  }
  set(env.LGSP_REDIS_URL, (v) => { redis().url = v })
  set(env.LGSP_REDIS_NAMESPACE, (v) => { redis().namespace = v })
  set(env.LGSP_INSTANCE, (v) => { redis().instance = v })
  set(env.LGSP_TOKEN_SECRET, (v) => { section('auth').tokenSecret = v })
  set(env.LGSP_LOG_LEVEL, (v) => { section('log').level = v })
  if (Array.isArray(out.members)) {
    for (const m of out.members as Json[]) {
      if (typeof m.id === 'string') set(env[`LGSP_MEMBER_SECRET_${envName(m.id)}`], (v) => { m.clientSecret = v })
    }
  }
  const pay = out.payments
  if (pay !== null && typeof pay === 'object') {
    set(env.LGSP_PAYGOV_URL, (v) => { (pay as Json).url = v })
    set(env.LGSP_PAYGOV_SECRET, (v) => { (pay as Json).secret = v })
  }
  const dests = out.destinations
  if (dests !== null && typeof dests === 'object') {
    for (const [name, d] of Object.entries(dests as Record<string, Json>)) {
      const prefix = `LGSP_DEST_${envName(name)}_`
      set(env[`${prefix}URL`], (v) => { d.url = v })
      set(env[`${prefix}PASSWORD`], (v) => { d.password = v })
      set(env[`${prefix}TOKEN`], (v) => { d.token = v })
    }
  }
  return out
}

/** Checks what the schema cannot: cross references and secrets by profile. */
function checkSemantics (c: GatewayConfig): string[] {
  const problems: string[] = []
  const destinations = Object.keys(c.destinations)
  const ids = new Set<string>()
  for (const m of c.members) {
    if (ids.has(m.id)) problems.push(`members: "${m.id}" is declared twice`)
    ids.add(m.id)
    if (m.clientSecret === undefined && m.clientSecretHash === undefined) {
      problems.push(`members.${m.id}: give clientSecretHash, clientSecret or LGSP_MEMBER_SECRET_${envName(m.id)}`)
    }
    for (const d of [...m.destinations, ...(m.defaultDestinations ?? [])]) {
      if (!destinations.includes(d)) problems.push(`members.${m.id}: destination "${d}" is not in destinations (${destinations.join(', ')})`)
    }
    for (const d of m.defaultDestinations ?? []) {
      if (!m.destinations.includes(d)) problems.push(`members.${m.id}: default destination "${d}" must also be in its destinations`)
    }
  }
  // Each component checks its own section's cross references (adapters/component.ts checkConfig).
  for (const [name, d] of Object.entries(c.destinations)) {
    if (d === undefined) continue
    problems.push(...(componentOf(d.adapter)?.checkConfig?.(name, d as unknown as ComponentConfig, { profile: c.profile, members: c.members }) ?? []))
  }
  // Message kinds are the core's and whatever a component produces (the tax component's tax-notice, …).
  const kinds = new Set(['dossier', 'progress', ...allComponents().flatMap((x) => x.produces)])
  c.access.rules.forEach((r, i) => {
    for (const k of r.kinds) if (!kinds.has(k)) problems.push(`access.rules[${i}].kinds: "${k}" is not a message kind (${[...kinds].join(', ')})`)
  })
  for (const d of c.payments?.destinations ?? []) {
    if (!destinations.includes(d)) problems.push(`payments.destinations: "${d}" is not in destinations (${destinations.join(', ')})`)
  }
  if (c.profile === 'production' && c.auth.tokenSecret === undefined) {
    problems.push('auth.tokenSecret: required in production (or set LGSP_TOKEN_SECRET)')
  } else if (c.store.kind === 'redis' && c.auth.tokenSecret === undefined) {
    // A key made at start differs in each instance: a token from one would be refused by the others.
    problems.push('auth.tokenSecret: required with store.kind "redis", the same in every instance (or set LGSP_TOKEN_SECRET)')
  }
  return problems
}

/** The environment variable that sets a config key, when there is one (`http.port` → LGSP_HTTP_PORT). */
export function envVarOf (key: string, doc: Json): string | undefined {
  const fixed: Record<string, string> = {
    profile: 'LGSP_PROFILE',
    'http.host': 'LGSP_HTTP_HOST',
    'http.port': 'LGSP_HTTP_PORT',
    'store.path': 'LGSP_STORE_PATH',
    'store.kind': 'LGSP_STORE',
    'store.redis.url': 'LGSP_REDIS_URL',
    'store.redis.namespace': 'LGSP_REDIS_NAMESPACE',
    'store.redis.instance': 'LGSP_INSTANCE',
    'auth.tokenSecret': 'LGSP_TOKEN_SECRET',
    'log.level': 'LGSP_LOG_LEVEL',
    'payments.url': 'LGSP_PAYGOV_URL',
    'payments.secret': 'LGSP_PAYGOV_SECRET'
  }
  if (fixed[key] !== undefined) return fixed[key]
  const dest = /^destinations\.([^.]+)\.(url|password|token)$/.exec(key)
  if (dest !== null) return `LGSP_DEST_${envName(dest[1]!)}_${dest[2]!.toUpperCase()}`
  const member = /^members\[(\d+)\]\.clientSecret$/.exec(key)
  const id = member === null ? undefined : ((doc.members as Json[] | undefined)?.[Number(member[1])]?.id)
  return typeof id === 'string' ? `LGSP_MEMBER_SECRET_${envName(id)}` : undefined
}

/** `/members/0/id` → `members[0].id`; `/http/port` → `http.port`. */
const keyOf = (pointer: string): string => pointer.split('/').slice(1)
  .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  .reduce((a, p) => /^\d+$/.test(p) ? `${a}[${p}]` : a === '' ? p : `${a}.${p}`, '')

let configSchema: Json | undefined
/**
 * The schema object an ajv schemaPath (`#/properties/http/additionalProperties`) points into,
 * in `root` (a component's own section schema) or else the config file's schema.
 */
function schemaAt (schemaPath: string, root?: Json): Json | undefined {
  if (!schemaPath.startsWith('#/')) return undefined
  configSchema ??= JSON.parse(readFileSync(`${schemaDir}/config.schema.json`, 'utf8')) as Json
  let node: unknown = root ?? configSchema
  for (const p of schemaPath.slice(2).split('/').slice(0, -1)) {
    if (node === null || typeof node !== 'object') return undefined
    node = (node as Json)[p.replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  return node !== null && typeof node === 'object' ? node as Json : undefined
}

/** Edit distance, for "did you mean". */
function distance (a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1))
  }
  return d[a.length]![b.length]!
}

const shown = (v: unknown): string => {
  const s = JSON.stringify(v)
  return s === undefined ? 'nothing' : s.length > 40 ? `${s.slice(0, 39)}…` : s
}

/**
 * One line per schema problem, naming the key (`http.port`), what is allowed (keys, values)
 * and the environment variable that sets it, if any (and whether it was that variable).
 * `root`: the schema the errors' schemaPaths point into, when not the config file's.
 */
export function describeConfigErrors (errors: readonly ErrorObject[], doc: Json, env: NodeJS.ProcessEnv, root?: Json): string[] {
  const lines = new Set<string>()
  const valueAt = (pointer: string): unknown => pointer.split('/').slice(1).reduce<unknown>((v, p) => v !== null && typeof v === 'object' ? (v as Json)[p] : undefined, doc)
  // Conditional and one-of wrappers repeat what the branches say.
  for (const e of errors.filter((x) => !['if', 'oneOf', 'anyOf'].includes(x.keyword))) {
    let key = keyOf(e.instancePath)
    let text: string
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty
      key = key === '' ? extra : `${key}.${extra}`
      const allowed = Object.keys((schemaAt(e.schemaPath, root)?.properties as Json | undefined) ?? {})
      const close = allowed.filter((a) => distance(extra, a) <= Math.max(2, Math.floor(extra.length / 4)))
      text = `unknown key${close.length > 0 ? ` (did you mean ${close.join(' or ')}?)` : ''}${allowed.length > 0 ? `; allowed here: ${allowed.join(', ')}` : ''}`
    } else if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty
      key = key === '' ? missing : `${key}.${missing}`
      text = 'required'
    } else if (e.keyword === 'enum') {
      text = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}, not ${shown(valueAt(e.instancePath))}`
    } else if (e.keyword === 'const') {
      text = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}, not ${shown(valueAt(e.instancePath))}`
    } else if (e.keyword === 'discriminator') {
      const allowed = ((schemaAt(`${e.schemaPath}/x`, root)?.oneOf as Json[] | undefined) ?? [])
        .map((b) => ((b.properties as Json | undefined)?.adapter as Json | undefined)?.const).filter((v) => v !== undefined)
      text = `${e.message ?? 'is invalid'}${allowed.length > 0 ? `: one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}` : ''}`
    } else {
      text = `${e.message ?? 'is invalid'}, not ${shown(valueAt(e.instancePath))}`
    }
    const variable = envVarOf(key, doc)
    const fromEnv = variable !== undefined && env[variable] !== undefined && env[variable] !== ''
    lines.add(`${key === '' ? '(the whole file)' : key}: ${text}${variable === undefined ? '' : fromEnv ? ` (set by ${variable})` : ` (environment: ${variable})`}`)
  }
  return [...lines]
}

/** Removes from the document the destinations whose component is registered but not built in. */
function takeComponentSections (doc: Json): Array<[string, Json]> {
  const dests = doc.destinations
  if (dests === null || typeof dests !== 'object' || Array.isArray(dests)) return []
  const out: Array<[string, Json]> = []
  for (const [name, d] of Object.entries(dests as Record<string, unknown>)) {
    const adapter = (d as Json | null)?.adapter
    if (typeof adapter !== 'string' || isBuiltIn(adapter) || componentOf(adapter) === undefined) continue
    out.push([name, d as Json])
    delete (dests as Json)[name]
  }
  return out
}

const compiledSections = new WeakMap<object, ReturnType<typeof compileSchema>>()

/** A component's own section against its own schema (defaults filled in), described like the file's own errors. */
function checkComponentSection (name: string, section: Json, env: NodeJS.ProcessEnv): string[] {
  const schema = componentOf(section.adapter as string)!.configSchema
  let validate = compiledSections.get(schema)
  if (validate === undefined) compiledSections.set(schema, validate = compileSchema(schema))
  if (validate(section)) return []
  // Placed where the section sits in the file, so that keys and environment variables come out whole.
  const errors = (validate.errors ?? []).map((e) => ({ ...e, instancePath: `/destinations/${name}${e.instancePath}` }))
  return describeConfigErrors(errors, { destinations: { [name]: section } }, env, schema)
}

/** Validates a config document (already parsed) with the environment applied. */
export function resolveConfig (doc: unknown, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw lgspError('LGSP_ERR_CONFIG_INVALID', 'The configuration must be a JSON object.')
  }
  const merged = applyEnv(doc as Json, env)
  // Sections of components that are not built in are checked with their own schema, the rest with the file's.
  const own = takeComponentSections(merged)
  const ownProblems = own.flatMap(([name, section]) => checkComponentSection(name, section, env))
  if (!validators.config(merged) || ownProblems.length > 0) {
    const lines = [...describeConfigErrors(validators.config.errors ?? [], merged, env), ...ownProblems]
    throw lgspError('LGSP_ERR_CONFIG_INVALID', `Invalid configuration (docs/config.md lists every key):\n  ${lines.join('\n  ')}`)
  }
  const destinations = merged.destinations as Json
  for (const [name, section] of own) destinations[name] = section
  const config = merged as unknown as GatewayConfig
  const problems = checkSemantics(config)
  // The folders, files and keys too, so that one run lists everything to fix.
  if (problems.length > 0) throw lgspError('LGSP_ERR_CONFIG_INVALID', `Invalid configuration:\n  ${[...problems, ...prerequisites(config)].join('\n  ')}`)
  // dev profile only: a random token key per start (tokens do not survive a restart).
  config.auth.tokenSecret ??= randomBytes(32).toString('base64url')
  return config
}

/** Reads and validates a configuration file. */
export function loadConfig (file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    throw lgspError('LGSP_ERR_CONFIG_INVALID', `Cannot read the configuration file ${file}: give its path with --config or LGSP_CONFIG.`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw lgspError('LGSP_ERR_CONFIG_INVALID', `The configuration file ${file} is not valid JSON: ${(err as Error).message}`)
  }
  return resolveConfig(doc, env)
}
