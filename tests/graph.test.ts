/**
 * The import graph (issue 14, "clean graph"): no cycles anywhere in the source, and the
 * adapters reach into the gateway only through a short list of modules that form their
 * contract. madge reads the TypeScript imports, type-only ones included, so a cycle made
 * of `import type` lines counts as well.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import madge from 'madge'
import t from 'tap'

const root = resolve(import.meta.dirname, '..')
const SOURCE = ['gateway', 'adapters', 'schemas', 'certs', 'bench']

/**
 * The gateway modules an adapter may import. Each is a leaf (it imports nothing of the
 * gateway but other modules of this list, checked below), so an adapter can never reach the
 * store, the delivery workers or the routes through it:
 * - errors.ts: the LGSP_ERR_* table; a client maps HTTP statuses and SOAP faults to its codes.
 * - logger.ts: the pino Logger type, so adapters log through the gateway's redaction list.
 * - ledger/dates.ts: the one date/time module (DVCQG dates, UTC+7, the working calendar);
 *   every system's codec converts its dates to and from DVCQG's.
 * - ledger/state-machine.ts: the dossier states, the vocabulary a codec maps a system's
 *   statuses onto (GPLX).
 * - paths.ts: where schemas/ is, for the codecs that validate against an XSD or JSON Schema.
 * - crypto/xml-signature.ts: XML-DSig enveloped signing, which the tax service requires on
 *   its SOAP requests.
 */
const ADAPTER_CONTRACT = new Set([
  'gateway/errors.ts',
  'gateway/logger.ts',
  'gateway/ledger/dates.ts',
  'gateway/ledger/state-machine.ts',
  'gateway/paths.ts',
  'gateway/crypto/xml-signature.ts'
])

const graph = async (dirs: string[], baseDir: string): Promise<Awaited<ReturnType<typeof madge>>> =>
  madge(dirs, { baseDir, fileExtensions: ['ts'], tsConfig: join(root, 'tsconfig.json'), excludeRegExp: [/\.d\.ts$/] })

t.test('the checker sees a cycle when there is one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-graph-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.js'\nexport interface A { b?: B }\n")
  writeFileSync(join(dir, 'b.ts'), "import type { A } from './a.js'\nexport interface B { a?: A }\n")
  const res = await graph([dir], dir)
  t.same(res.circular(), [['a.ts', 'b.ts']], 'a type-only cycle counts')
})

t.test('the source has no import cycles and adapters import only the gateway contract', async (t) => {
  const res = await graph(SOURCE.map((d) => join(root, d)), root)
  const files = res.obj()
  t.ok(Object.keys(files).length > 80, `madge read the source (${Object.keys(files).length} files)`)
  t.same(res.warnings().skipped, [], 'every import resolved')

  const cycles = res.circular()
  t.same(cycles.map((c) => [...c, c[0]].join(' → ')), [], 'no import cycles')

  const outside: string[] = []
  for (const [file, deps] of Object.entries(files)) {
    if (!file.startsWith('adapters/')) continue
    for (const dep of deps) if (dep.startsWith('gateway/') && !ADAPTER_CONTRACT.has(dep)) outside.push(`${file} → ${dep}`)
  }
  t.same(outside, [], 'adapters import no gateway module outside ADAPTER_CONTRACT')

  const leaks: string[] = []
  for (const mod of ADAPTER_CONTRACT) {
    t.ok(files[mod] !== undefined, `${mod} exists`)
    for (const dep of files[mod] ?? []) if (dep.startsWith('gateway/') && !ADAPTER_CONTRACT.has(dep)) leaks.push(`${mod} → ${dep}`)
  }
  t.same(leaks, [], 'the contract modules import nothing else of the gateway')
})
