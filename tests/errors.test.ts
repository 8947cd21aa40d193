import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { errorTable } from '../gateway/errors.js'
import { projectRoot } from '../gateway/paths.js'
import { warningTable } from '../gateway/warnings.js'

const codes = Object.keys(errorTable)

function sources (dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : []
  })
}

t.test('every error code is unique, well formed and documented in the README', async (t) => {
  t.equal(new Set(codes).size, codes.length)
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8')
  for (const code of codes) {
    t.match(code, /^LGSP_ERR_[A-Z0-9]+(_[A-Z0-9]+)+$/, code)
    t.ok(readme.includes(`\`${code}\``), `${code} is in the README`)
    const row = errorTable[code as keyof typeof errorTable]
    t.ok(row.status >= 400 && row.status < 600, `${code} has an HTTP status`)
    t.ok(row.hint.length > 10, `${code} says how to fix it`)
  }
})

t.test('library code throws coded errors and logs through pino only', async (t) => {
  for (const file of [...sources(join(projectRoot, 'gateway')), ...sources(join(projectRoot, 'adapters'))]) {
    const text = readFileSync(file, 'utf8')
    t.notMatch(text, /throw new Error\(/, `${file}: no bare Error`)
    t.notMatch(text, /console\.(log|error|warn|info|debug)/, `${file}: no console`)
  }
})

t.test('outside code imports adapters only through the registry, the component contract and list, and <system>/index.ts; only the demo loads simulators', async (t) => {
  for (const file of [...sources(join(projectRoot, 'gateway'))]) {
    const imports = [...readFileSync(file, 'utf8').matchAll(/from '([^']*adapters\/[^']*)'/g)].map((m) => m[1]!)
    const allowed = file.endsWith('/gateway/demo.ts')
      ? /adapters\/(registry|components?|[a-z]+\/(index|simulator))\.js$/
      : /adapters\/(registry|components?|[a-z]+\/index)\.js$/
    for (const i of imports) t.match(i, allowed, `${file} imports ${i}`)
  }
})

t.test('every warning code is unique, well formed and documented in the README', async (t) => {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8')
  for (const [code, meaning] of Object.entries(warningTable)) {
    t.match(code, /^LGSP_WARN_[A-Z0-9]+(_[A-Z0-9]+)+$/, code)
    t.ok(readme.includes(`\`${code}\``), `${code} is in the README`)
    t.ok(meaning.length > 20, `${code} says what it means`)
    t.notOk(code in errorTable, `${code} is not also an error code`)
  }
})
