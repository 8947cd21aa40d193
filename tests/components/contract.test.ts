/**
 * The built-in components keep the contract: unique names, a config section that exists in
 * the config schema, a simulator the gateway process never loads (only the demo and the tests
 * import it), and no system named by the delivery core.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import madge from 'madge'
import t from 'tap'
import { allComponents, isBuiltIn } from '../../adapters/registry.js'
import { projectRoot } from '../../gateway/paths.js'

const builtIns = allComponents().filter((c) => isBuiltIn(c.name))
/** What Node loads at import: type-only imports are erased and dynamic imports run later, so neither is an edge here. */
const runtimeGraph = { fileExtensions: ['ts'], tsConfig: join(projectRoot, 'tsconfig.json'), baseDir: projectRoot, detectiveOptions: { ts: { skipTypeImports: true, skipAsyncImports: true }, es6: { skipTypeImports: true, skipAsyncImports: true } } }

t.test('each built-in component has a unique name, a config section in the schema, and a simulator module', async (t) => {
  t.same(builtIns.map((c) => c.name).sort(), ['dvcqg', 'gplx', 'onestop', 'tax'])
  const schema = JSON.parse(readFileSync(join(projectRoot, 'schemas', 'config.schema.json'), 'utf8')) as { $defs: Record<string, { properties?: { adapter?: { const?: string } } }> }
  for (const c of builtIns) {
    const ref = /^config\.schema\.json#\/\$defs\/(\w+)$/.exec(String(c.configSchema.$ref))
    t.ok(ref, `${c.name}: its schema is a $ref into the config schema`)
    t.equal(schema.$defs[ref![1]!]?.properties?.adapter?.const, c.name, `${c.name}: the section it names selects it`)
    t.ok(c.simulator !== undefined && existsSync(join(projectRoot, 'adapters', c.simulator.replace(/\.js$/, '.ts'))), `${c.name}: its simulator module exists`)
  }
})

t.test('the gateway process never imports a simulator: only the demo and the tests do', async (t) => {
  const graph = await madge(join(projectRoot, 'gateway', 'server.ts'), runtimeGraph)
  const reachable = Object.keys(graph.obj())
  t.ok(reachable.includes('adapters/registry.ts'), 'the walk reaches the components')
  t.same(reachable.filter((f) => /simulator/.test(f)), [], 'no simulator module in the gateway\'s import graph')
  const demo = Object.keys((await madge(join(projectRoot, 'gateway', 'demo.ts'), runtimeGraph)).obj())
  for (const c of builtIns) t.ok(demo.includes(`adapters/${c.simulator!.replace(/\.js$/, '.ts')}`), `${c.name}: the demo loads its simulator`)
})

t.test('reading the config loads the components\' manifests only, never an adapter or client', async (t) => {
  const graph = await madge(join(projectRoot, 'gateway', 'config.ts'), runtimeGraph)
  const reachable = Object.keys(graph.obj())
  for (const c of builtIns) t.ok(reachable.includes(`adapters/${c.name}/component.ts`), `${c.name}: manifest read`)
  t.same(reachable.filter((f) => /^adapters\/[^/]+\/(adapter|client|poller|simulator)\.ts$/.test(f) || f === 'adapters/http.ts'), [], 'no adapter, client, poller or simulator')
})

t.test('the delivery core, intake and the components\' producers and routes name no system', async (t) => {
  const core = ['delivery/worker.ts', 'delivery/index.ts', 'delivery/dlq.ts', 'delivery/circuit-breaker.ts', 'delivery/retry-policy.ts', 'intake.ts', 'producers.ts', 'component-routes.ts', 'ledger/plan.ts', 'catalogue-sync.ts']
  for (const file of core) {
    const code = readFileSync(join(projectRoot, 'gateway', file), 'utf8').split('\n').filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l)).join('\n')
    // DVCQG's date format (yyyyMMddHHmmss) is the national one every system uses: its helpers keep the name.
    t.notMatch(code.replace(/(parse|format)DvcqgDate/g, '').replace("'catalogue-dvcqg.json'", ''), /dvcqg|paygov|gplx|tax/i, `gateway/${file}`)
  }
})
