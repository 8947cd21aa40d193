import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { projectRoot } from '../../gateway/paths.js'
import { generate } from '../../schemas/generate.js'

t.test('schemas/types.ts is generated from the current schemas (run `npm run schemas`)', async (t) => {
  t.equal(readFileSync(join(projectRoot, 'schemas', 'types.ts'), 'utf8'), await generate())
})
