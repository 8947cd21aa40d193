/**
 * Where the project's own files are, from source (gateway/*.ts) or from the build
 * (dist/gateway/*.js) alike.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { lgspError } from './errors.js'

function findRoot (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'schemas'))) {
    const up = dirname(dir)
    if (up === dir) throw lgspError('LGSP_ERR_CONFIG_INVALID', 'Cannot find the project folder (package.json beside schemas/): run the gateway from its installation.')
    dir = up
  }
  return dir
}

/** The project folder (holds package.json and schemas/). */
export const projectRoot = findRoot()
export const schemaDir = join(projectRoot, 'schemas')
