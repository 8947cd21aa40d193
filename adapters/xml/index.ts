/**
 * XML for adapters: hardened parsing, inline for small documents and in a worker pool
 * (piscina) for large ones, so a big or hostile document never holds the event loop.
 */
import { join } from 'node:path'
import { Piscina } from 'piscina'
import { lgspError, type ErrorCode } from '../../gateway/errors.js'
import { projectRoot } from '../../gateway/paths.js'
import { defaultXmlLimits, parseXmlSafely, type XmlLimits } from './safe-parse.js'
import type { XmlTaskResult } from './worker.js'

export { defaultXmlLimits, parseXmlSafely, prescan, type XmlLimits } from './safe-parse.js'

/** Documents above this many characters are parsed in the pool. */
export const POOL_THRESHOLD = 64 * 1024

export class XmlParserPool {
  readonly #pool: Piscina
  readonly #limits: XmlLimits
  /** Documents parsed in the pool (for operators and tests). */
  pooled = 0

  constructor (limits: XmlLimits = defaultXmlLimits, threads = 2) {
    this.#limits = limits
    // The pool runs the built worker (dist/), which `npm install` and `npm test` produce.
    this.#pool = new Piscina({ filename: join(projectRoot, 'dist', 'adapters', 'xml', 'worker.js'), maxThreads: threads, idleTimeout: 30_000 })
  }

  async parse (xml: string, expect: { root: string, namespace?: string }): Promise<Record<string, unknown>> {
    if (xml.length <= POOL_THRESHOLD) return parseXmlSafely(xml, expect, this.#limits)
    this.pooled++
    const r = await this.#pool.run({ xml, expect, limits: this.#limits }) as XmlTaskResult
    if (!r.ok) throw lgspError(r.code as ErrorCode, r.message)
    return r.doc
  }

  async close (): Promise<void> {
    await this.#pool.destroy()
  }
}
