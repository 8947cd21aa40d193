/**
 * Bounded validation, checked on the schemas themselves: every string that comes from outside
 * has a maxLength and every array a maxItems (ajv checks them before any item or pattern, so a
 * hostile body is refused in time linear in the bounds), and no pattern can backtrack
 * catastrophically. A schema edit that drops a bound fails here, not under load.
 */
import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { schemaDir } from '../../gateway/paths.js'

/** The schemas of what arrives from outside: member posts, PayGov's callback, DVCQG's catalogue. */
const INBOUND = ['common', 'hoso', 'qua-trinh-xu-ly', 'dossier-request', 'progress-request', 'payment-request', 'paygov-callback', 'onestop-reconcile', 'procedure-catalogue']

/**
 * Every schema file is either inbound or listed here with why its strings need no bound.
 * config: written by the operator and read once at start-up, never from the network.
 */
const NOT_INBOUND = ['config']

/**
 * Objects that keep fields the gateway does not know (additionalProperties not false) and an
 * array whose items are not described: real software sends extra fields, and the gateway
 * delivers them unchanged. ajv does not look inside them, so they cost no validation; their
 * size is capped by http.bodyLimitBytes. Listed so that a new open object is a decision.
 */
const OPEN = new Set([
  'hoso#',
  'hoso#/properties/TaiLieuNop/items',
  'hoso#/properties/DanhSachLePhi/items',
  'hoso#/properties/DanhSachHoSoBoSung/items',
  'hoso#/properties/DanhSachGiayToKetQua/items',
  'hoso#/properties/DinhDanhCHS/items',
  'hoso#/properties/DSKetNoiCSDL/items',
  'qua-trinh-xu-ly#',
  'qua-trinh-xu-ly#/properties/TaiLieuXuLy',
  'paygov-callback#'
])

type Schema = Record<string, unknown>

const load = (name: string): Schema => JSON.parse(readFileSync(`${schemaDir}/${name}.schema.json`, 'utf8')) as Schema

/** Every subschema with its JSON pointer; `declares` is false under if/then/else/not (they constrain, they declare no value). */
function * walk (s: unknown, path: string, declares = true): Generator<{ node: Schema, path: string, declares: boolean }> {
  if (s === null || typeof s !== 'object' || Array.isArray(s)) return
  const node = s as Schema
  yield { node, path, declares }
  const map = (key: string, d: boolean): Array<[string, unknown, boolean]> => Object.entries((node[key] ?? {}) as Schema).map(([k, v]) => [`${path}/${key}/${k}`, v, d])
  const list = (key: string, d: boolean): Array<[string, unknown, boolean]> => ((node[key] ?? []) as unknown[]).map((v, i) => [`${path}/${key}/${i}`, v, d])
  const children: Array<[string, unknown, boolean]> = [
    ...map('properties', declares), ...map('patternProperties', declares), ...map('$defs', true),
    ...list('prefixItems', declares), ...list('oneOf', declares), ...list('anyOf', declares), ...list('allOf', declares),
    [`${path}/items`, node.items, declares], [`${path}/contains`, node.contains, declares],
    [`${path}/additionalProperties`, node.additionalProperties, declares],
    [`${path}/if`, node.if, false], [`${path}/then`, node.then, false], [`${path}/else`, node.else, false], [`${path}/not`, node.not, false]
  ]
  for (const [p, v, d] of children) yield * walk(v, p, d)
}

const typesOf = (node: Schema): string[] | undefined => node.type === undefined ? undefined : ([] as string[]).concat(node.type as string | string[])

/** Keywords that make a schema more than "any value": a type, a value set, a reference, a combination, a container of definitions. */
const SHAPING = ['type', 'enum', 'const', '$ref', 'oneOf', 'anyOf', 'allOf', 'if', 'not', 'properties', 'required', '$defs']

/** A value schema that accepts anything (e.g. common's Extra): it must bound strings and arrays itself. */
const untyped = (node: Schema): boolean => SHAPING.every((k) => node[k] === undefined)

/** What in one inbound schema is unbounded: strings without maxLength, arrays without maxItems, open objects. */
function unbounded (name: string): { strings: string[], arrays: string[], open: string[] } {
  const out = { strings: [] as string[], arrays: [] as string[], open: [] as string[] }
  for (const { node, path, declares } of walk(load(name), `${name}#`)) {
    if (!declares) continue
    const types = typesOf(node)
    const any = untyped(node)
    if ((types?.includes('string') === true || any) && node.enum === undefined && node.const === undefined && node.maxLength === undefined) out.strings.push(path)
    if ((types?.includes('array') === true || any) && node.maxItems === undefined) out.arrays.push(path)
    if (types?.includes('object') === true && node.additionalProperties !== false) out.open.push(path)
    if (types?.includes('array') === true && node.items === undefined && node.prefixItems === undefined) out.open.push(path)
  }
  return out
}

t.test('every schema file is either inbound or listed as not inbound, with why', async (t) => {
  const files = readdirSync(schemaDir).filter((f) => f.endsWith('.schema.json')).map((f) => f.replace(/\.schema\.json$/, '')).sort()
  t.same(files, [...INBOUND, ...NOT_INBOUND].sort())
})

t.test('every string from outside has a maxLength and every array a maxItems', async (t) => {
  for (const name of INBOUND) {
    const u = unbounded(name)
    t.same(u.strings, [], `${name}: strings without maxLength`)
    t.same(u.arrays, [], `${name}: arrays without maxItems`)
  }
})

t.test('objects that keep unknown fields are the listed ones, each bounded by the body limit', async (t) => {
  const open = INBOUND.flatMap((name) => unbounded(name).open).sort()
  t.same(open, [...OPEN].sort())
})

/** A quantifier that repeats: *, +, {n,} or {n,m} with m > 1 (a ? or {0,1} cannot nest a blow-up). */
const REPEAT = /^(\*|\+|\{\d+,\}|\{\d+,(\d+)\})/

/**
 * Groups repeated by a quantifier that contain a quantifier themselves, e.g. (a+)+ or
 * ([a-z]+\.?)*: on a near miss the engine tries every way to split the input between the
 * inner and outer loop. Not reported: a group that starts with a literal the group's
 * quantified atoms cannot match, e.g. (\.[0-9A-Za-z]{1,6}){0,4} or (/[a-z]+)*: each
 * repetition begins at that literal, so there is one way to split any input (linear).
 */
function nestedQuantifiers (pattern: string): string[] {
  const found: string[] = []
  const open: number[] = []
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!
    if (ch === '\\') { i++; continue }
    if (ch === '[') { i = classEnd(pattern, i); continue }
    if (ch === '(') open.push(i)
    if (ch === ')') {
      const start = open.pop()!
      const m = REPEAT.exec(pattern.slice(i + 1))
      if (m === null || (m[2] !== undefined && Number(m[2]) <= 1)) continue
      const body = pattern.slice(start + 1, i).replace(/^\?:/, '')
      const atoms = quantifiedAtoms(body)
      if (atoms.length === 0) continue
      const lead = leadingLiteral(body)
      const separated = lead !== undefined && atoms.every((a) => !new RegExp(`^${a}$`, 'u').test(lead))
      if (!separated) found.push(pattern.slice(start, i + 1 + m[0].length))
    }
  }
  return found
}

function classEnd (p: string, i: number): number {
  for (let j = i + 1; j < p.length; j++) {
    if (p[j] === '\\') j++
    else if (p[j] === ']') return j
  }
  return p.length
}

/** The atoms of a group's body that carry a quantifier (classes, escapes, single characters, inner groups). */
function quantifiedAtoms (body: string): string[] {
  const atoms: string[] = []
  for (let i = 0; i < body.length;) {
    let end = i + 1
    if (body[i] === '\\') end = i + 2
    else if (body[i] === '[') end = classEnd(body, i) + 1
    else if (body[i] === '(') {
      let depth = 0
      for (end = i; end < body.length; end++) {
        if (body[end] === '\\') { end++; continue }
        if (body[end] === '(') depth++
        if (body[end] === ')' && --depth === 0) { end++; break }
      }
    }
    const atom = body.slice(i, end)
    if (/^(\*|\+|\?|\{\d+(,\d*)?\})/.test(body.slice(end))) atoms.push(atom.startsWith('(') ? '[^]' : atom)
    i = end
  }
  return atoms
}

/** The literal character a group's body begins with, if it begins with one (an escaped punctuation or a plain character). */
function leadingLiteral (body: string): string | undefined {
  if (body.startsWith('\\')) return /^\\[^A-Za-z0-9]/.test(body) ? body[1] : undefined
  return /^[^[(.|^$*+?{]/.test(body) && !/^.(\*|\+|\?|\{)/.test(body) ? body[0] : undefined
}

t.test('the detector finds nested quantifiers and lets separated repetitions through', async (t) => {
  t.same(nestedQuantifiers('^(a+)+$'), ['(a+)+'])
  t.same(nestedQuantifiers('^([a-z]+\\.?)*$'), ['([a-z]+\\.?)*'])
  t.same(nestedQuantifiers('^(\\w+\\s?)*$'), ['(\\w+\\s?)*'])
  t.same(nestedQuantifiers('^(\\.[a-z.]+){0,4}$'), ['(\\.[a-z.]+){0,4}'], 'the separator is matched by the inner class: ambiguous')
  t.same(nestedQuantifiers('^(?:x*)+$'), ['(?:x*)+'])
  t.same(nestedQuantifiers('^[0-9]{1,2}\\.[0-9]{6}(\\.[0-9A-Za-z]{1,6}){0,4}$'), [])
  t.same(nestedQuantifiers('^/[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$'), [])
  t.same(nestedQuantifiers('^\\d{4}(-\\d{2}|-Q[1-4])?$'), [], 'an optional group does not repeat')
})

t.test('no schema pattern nests quantifiers (the config file\'s included)', async (t) => {
  for (const name of [...INBOUND, ...NOT_INBOUND]) {
    for (const { node, path } of walk(load(name), `${name}#`)) {
      const patterns = [...(typeof node.pattern === 'string' ? [node.pattern] : []), ...Object.keys((node.patternProperties ?? {}) as object)]
      for (const p of patterns) t.same(nestedQuantifiers(p), [], `${path}: ${p}`)
    }
  }
})
