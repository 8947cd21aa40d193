/**
 * The crypto worker pool (piscina): the gateway's signatures, verification of large
 * request bodies, and XML canonicalisation and signing, so that RSA arithmetic and c14n of
 * big documents never hold the event loop.
 */
import { join } from 'node:path'
import type { KeyObject } from 'node:crypto'
import { Piscina } from 'piscina'
import { projectRoot } from '../paths.js'
import { inputOf, type JwsAlg, type ParsedJws } from './jws.js'
import type { CryptoTask, VerifyItem } from './worker.js'

interface PendingVerify {
  item: VerifyItem
  resolve: (ok: boolean) => void
  reject: (err: unknown) => void
}

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
  /** Verifications wait for the end of the event-loop turn and go to a thread together: one message for many. */
  #verifies: PendingVerify[] = []
  /** SPKI DER of keys already exported (a member's key is exported once). */
  readonly #spki = new WeakMap<KeyObject, Buffer>()

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

  verify (jws: ParsedJws, payload: string, key: KeyObject): Promise<boolean> {
    const input = inputOf(jws, payload)
    let spki = this.#spki.get(key)
    if (spki === undefined) {
      spki = key.export({ type: 'spki', format: 'der' })
      this.#spki.set(key, spki)
    }
    const item: VerifyItem = { alg: jws.header.alg, input, signature: jws.signature, spki }
    return new Promise((resolve, reject) => {
      if (this.#verifies.length === 0) setImmediate(this.#flushVerifies)
      this.#verifies.push({ item, resolve, reject })
    })
  }

  readonly #flushVerifies = (): void => {
    const batch = this.#verifies
    this.#verifies = []
    this.#pool.run({ op: 'verify', items: batch.map((b) => b.item) } satisfies CryptoTask).then(
      (oks) => batch.forEach((b, i) => b.resolve((oks as boolean[])[i] === true)),
      (err: unknown) => { for (const b of batch) b.reject(err) })
  }

  /** An enveloped XML-DSig signature (exc-c14n, RSA-SHA256) over a whole document. */
  async signXml (xml: string): Promise<string> {
    return await this.#pool.run({ op: 'xml', xml } satisfies CryptoTask) as string
  }

  async close (): Promise<void> {
    await this.#pool.destroy()
  }
}
