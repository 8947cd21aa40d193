/** `lgsp start` and `lgsp demo`: the long-running commands. */
import { loadConfig } from '../config.js'
import { runDemo } from '../demo.js'
import { closeOnSignals, startGateway } from '../server.js'
import type { Context } from './context.js'

export async function start ({ file }: Context): Promise<number> {
  const gateway = await startGateway(loadConfig(file))
  closeOnSignals(gateway)
  return -1
}

export async function demo (_ctx: Context): Promise<number> {
  await runDemo()
  return -1
}
