/**
 * The procedure catalogue: reference data per MaTTHC (field, agency level, fee-bearing,
 * statutory duration, paper result, vertical systems), from a versioned file validated at
 * start-up. Routing reads HeThongLienThong; the indicators read durations and fees.
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Procedure, ProcedureCatalogue } from '../schemas/types.js'
import { lgspError } from './errors.js'
import { schemaDir } from './paths.js'
import { validators } from './validation.js'

export type { Procedure } from '../schemas/types.js'

/** The catalogue bundled with the gateway. */
export const bundledCatalogue = join(schemaDir, 'catalogue', 'procedures.v1.json')

export class Catalogue {
  readonly version: string
  readonly #byCode: Map<string, Procedure>

  constructor (doc: ProcedureCatalogue) {
    this.version = doc.version
    this.#byCode = new Map()
    for (const p of doc.procedures) {
      if (this.#byCode.has(p.MaTTHC)) throw lgspError('LGSP_ERR_CONFIG_INVALID', `Procedure catalogue ${doc.version}: ${p.MaTTHC} appears twice.`)
      this.#byCode.set(p.MaTTHC, p)
    }
  }

  get (maTTHC: string): Procedure | undefined {
    return this.#byCode.get(maTTHC)
  }

  get procedures (): Procedure[] {
    return [...this.#byCode.values()]
  }

  /** Vertical systems named by some procedure that are not among `destinations` (they are not routed). */
  unroutedSystems (destinations: readonly string[]): string[] {
    return [...new Set(this.procedures.flatMap((p) => p.HeThongLienThong))].filter((s) => !destinations.includes(s)).sort()
  }

  /** Reads and validates a catalogue file. */
  static load (path: string = bundledCatalogue): Catalogue {
    let doc: unknown
    try {
      doc = JSON.parse(readFileSync(resolve(path), 'utf8'))
    } catch (err) {
      throw lgspError('LGSP_ERR_CONFIG_INVALID', `Cannot read the procedure catalogue ${path}: ${(err as Error).message}`)
    }
    if (!validators.catalogue(doc)) {
      const lines = (validators.catalogue.errors ?? []).slice(0, 10).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
      throw lgspError('LGSP_ERR_CONFIG_INVALID', `Invalid procedure catalogue ${path}:\n  ${lines.join('\n  ')}`)
    }
    return new Catalogue(doc as ProcedureCatalogue)
  }
}
