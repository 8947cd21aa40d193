/**
 * The gateway's configuration: a JSON file validated by schemas/config.schema.json (which
 * holds every default), then overridden by the environment variables below. Secrets have
 * no default outside the dev profile.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { GatewayConfig } from '../schemas/types.js'
import { lgspError } from './errors.js'
import { validators } from './validation.js'

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
  for (const [name, d] of Object.entries(c.destinations)) {
    if (d?.adapter !== 'gplx') continue
    const m = c.members.find((x) => x.id === d.poll.member)
    if (m === undefined) problems.push(`destinations.${name}.poll.member: "${d.poll.member}" is not a member`)
    else if (!m.messageKinds.includes('dossier') || !m.messageKinds.includes('progress')) {
      problems.push(`destinations.${name}.poll.member: "${m.id}" needs messageKinds "dossier" and "progress" to bring the ministry's dossiers and changes in`)
    }
  }
  for (const [name, d] of Object.entries(c.destinations)) {
    if (d?.adapter !== 'tax') continue
    if (c.profile === 'production' && d.signing === undefined) problems.push(`destinations.${name}.signing: required in production (keyPath and certPath of the WS-Security identity)`)
    const m = c.members.find((x) => x.id === d.notices.member)
    if (m === undefined) problems.push(`destinations.${name}.notices.member: "${d.notices.member}" is not a member`)
    else if (!m.messageKinds.includes('progress')) problems.push(`destinations.${name}.notices.member: "${m.id}" needs messageKind "progress" to bring tax notices in`)
  }
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

/** Validates a config document (already parsed) with the environment applied. */
export function resolveConfig (doc: unknown, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw lgspError('LGSP_ERR_CONFIG_INVALID', 'The configuration must be a JSON object.')
  }
  const merged = applyEnv(doc as Json, env)
  if (!validators.config(merged)) {
    const lines = (validators.config.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    throw lgspError('LGSP_ERR_CONFIG_INVALID', `Invalid configuration:\n  ${[...new Set(lines)].join('\n  ')}`)
  }
  const config = merged as unknown as GatewayConfig
  const problems = checkSemantics(config)
  if (problems.length > 0) throw lgspError('LGSP_ERR_CONFIG_INVALID', `Invalid configuration:\n  ${problems.join('\n  ')}`)
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
