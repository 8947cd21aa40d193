/**
 * Generates docs/config.md, the configuration reference, from schemas/config.schema.json
 * (descriptions, types, defaults, allowed values) and the environment variables that
 * override keys. `npx tsx schemas/config-reference.ts` rewrites it; a test checks that the
 * committed page is current.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { envVarOf } from '../gateway/config.js'
import { projectRoot, schemaDir } from '../gateway/paths.js'

type Node = Record<string, any>

/** Where the page lives. */
export const referencePath = join(projectRoot, 'docs', 'config.md')

function deref (schema: Node, node: Node): Node {
  if (typeof node.$ref === 'string' && node.$ref.startsWith('#/$defs/')) {
    const target = schema.$defs[node.$ref.slice('#/$defs/'.length)] as Node
    const { $ref: _ref, ...rest } = node
    return { ...deref(schema, target), ...rest, description: rest.description ?? target.description }
  }
  return node
}

const typeOf = (n: Node): string => {
  if (n.const !== undefined) return `\`${JSON.stringify(n.const)}\``
  if (Array.isArray(n.enum)) return n.enum.map((v: unknown) => `\`${JSON.stringify(v)}\``).join(' \\| ')
  const t = Array.isArray(n.type) ? n.type.join(' \\| ') : n.type ?? (n.oneOf !== undefined ? 'one of' : '')
  if (t === 'array' && n.items !== undefined) return `array of ${n.items.type ?? 'objects'}`
  const range = [n.minimum !== undefined ? `≥ ${n.minimum}` : '', n.maximum !== undefined ? `≤ ${n.maximum}` : ''].filter((x) => x !== '').join(', ')
  return range === '' ? String(t) : `${String(t)} (${range})`
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

/** The environment variable of a key as the reference writes it (`destinations.<name>.url` → `LGSP_DEST_<NAME>_URL`). */
function envOf (key: string): string {
  const dest = /^destinations\.<name>\.(url|password|token)$/.exec(key)
  if (dest !== null) return `\`LGSP_DEST_<NAME>_${dest[1]!.toUpperCase()}\``
  if (key === 'members[].clientSecret') return '`LGSP_MEMBER_SECRET_<ID>`'
  const v = envVarOf(key, {})
  return v === undefined ? '' : `\`${v}\``
}

function rows (schema: Node, node: Node, prefix: string, out: string[]): void {
  const n = deref(schema, node)
  for (const [k, raw] of Object.entries((n.properties ?? {}) as Record<string, Node>)) {
    const p = deref(schema, raw)
    const key = `${prefix}${k}`
    const required = Array.isArray(n.required) && n.required.includes(k) ? ' **required**' : ''
    const def = p.default === undefined || (typeof p.default === 'object' && Object.keys(p.default as object).length === 0) ? '' : `\`${JSON.stringify(p.default)}\``
    out.push(`| \`${key}\`${required} | ${typeOf(p)} | ${def} | ${envOf(key)} | ${cell(String(p.description ?? ''))} |`)
    if (p.properties !== undefined) rows(schema, p, `${key}.`, out)
    if (p.items !== undefined && deref(schema, p.items as Node).properties !== undefined) rows(schema, p.items as Node, `${key}[].`, out)
  }
}

/** The reference page as Markdown. */
export function configReference (schema: Node = JSON.parse(readFileSync(join(schemaDir, 'config.schema.json'), 'utf8')) as Node): string {
  const head = '| key | type | default | environment | what it does |\n|---|---|---|---|---|'
  const top: string[] = []
  const sections: string[] = []
  for (const [k, raw] of Object.entries(schema.properties as Record<string, Node>)) {
    const p = deref(schema, raw)
    if (k === 'destinations') {
      for (const branch of (deref(schema, p.additionalProperties as Node).oneOf ?? []) as Node[]) {
        const b = deref(schema, branch)
        const out: string[] = []
        rows(schema, b, 'destinations.<name>.', out)
        sections.push(`## \`destinations.<name>\` with adapter ${typeOf(b.properties.adapter as Node)}\n\n${cell(String(b.description ?? (b.properties.adapter as Node).description ?? ''))}\n\n${head}\n${out.join('\n')}`)
      }
      top.push(`| \`destinations\` **required** | object | | | ${cell(String(p.description ?? ''))} (see below) |`)
      continue
    }
    const out: string[] = []
    rows(schema, { properties: { [k]: raw }, required: schema.required }, '', out)
    if (p.properties === undefined && !(p.items !== undefined && deref(schema, p.items as Node).properties !== undefined)) top.push(out[0]!)
    else sections.push(`## \`${k}\`\n\n${cell(String(p.description ?? ''))}\n\n${head}\n${out.join('\n')}`)
  }
  return `# Configuration reference

Generated from \`schemas/config.schema.json\` by \`npx tsx schemas/config-reference.ts\`; do not edit by
hand. One JSON file (\`--config\`, \`LGSP_CONFIG\`); the environment variables named here override
the file. Unknown keys are refused, with the allowed ones listed.

${head}
${top.join('\n')}

${sections.join('\n\n')}
`
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(referencePath, configReference())
  process.stdout.write(`wrote ${referencePath}\n`)
}
