/** What every `lgsp` command receives (types only: imported without cost). */
import type { Output } from './output.js'

export type Values = Record<string, string | boolean | undefined>

export interface Context {
  /** Options after parsing, defaults applied. */
  values: Values
  /** Arguments after the command's own words (`dlq replay 42` → ['42']). */
  args: string[]
  /** The configuration file (--config, else LGSP_CONFIG, else lgsp.config.json). */
  file: string
  out: Output
}

/** A command's body; its exit code, or -1 when it keeps running (start, demo). */
export type Runner = (ctx: Context) => Promise<number>
