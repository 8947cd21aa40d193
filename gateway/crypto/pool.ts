/**
 * The crypto worker pool (piscina): the gateway's signatures, verification of large
 * request bodies, and XML canonicalisation and signing, so that RSA arithmetic and c14n of
 * big documents never hold the event loop.
 */
import { join } from 'node:path'
import type { KeyObject } from 'node:crypto'
import { Piscina } from 'piscina'
import { projectRoot } from '../paths.js'
import type { JwsAlg, ParsedJws } from './jws.js'
import type { CryptoTask } from './worker.js'

export interface CryptoPoolOptions {
  /** The gateway's signing key and certificate (PEM), handed to each thread once. */
  keyPem?: string
  certPem?: string
  threads: number
  /** Bodies from this size on are verified in the pool. */
  thresholdBytes: number
}

export class CryptoPool {
  readonly #pool: Piscina
  readonly thresholdBytes: number

  constructor (o: CryptoPoolOptions) {
    this.thresholdBytes = o.thresholdBytes
    // The pool runs the built worker (dist/), which `npm install` and `npm test` produce.
    this.#pool = new Piscina({
      filename: join(projectRoot, 'dist', 'gateway', 'crypto', 'worker.js'),
      minThreads: o.threads,
      maxThreads: o.threads,
      idleTimeout: 60_000,
      workerData: { keyPem: o.keyPem, certPem: o.certPem }
    })
  }

  async sign (alg: JwsAlg, input: Buffer): Promise<Buffer> {
    return Buffer.from(await this.#pool.run({ op: 'sign', alg, input } satisfies CryptoTask) as Uint8Array)
  }

  async verify (jws: ParsedJws, payload: string, key: KeyObject): Promise<boolean> {
    const task: CryptoTask = { op: 'verify', header: jws.header, headerB64: jws.headerB64, payload, signature: jws.signature, spki: key.export({ type: 'spki', format: 'der' }) }
    return await this.#pool.run(task) as boolean
  }

  /** An enveloped XML-DSig signature (exc-c14n, RSA-SHA256) over a whole document. */
  async signXml (xml: string): Promise<string> {
    return await this.#pool.run({ op: 'xml', xml } satisfies CryptoTask) as string
  }

  async close (): Promise<void> {
    await this.#pool.destroy()
  }
}
