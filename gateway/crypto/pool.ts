/**
 * The crypto worker pool (piscina): the gateway's RSA signatures and the checks of member
 * signatures, so that RSA and ECDSA arithmetic never holds the event loop. (XML signatures
 * are made inside the soap client's synchronous postProcess hook, on the event loop: SOAP
 * requests are a few kilobytes; large XML coming in is parsed in adapters/xml's pool.)
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
  /** The gateway's signing key (PEM), handed to each thread once. */
  keyPem?: string
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
      workerData: { keyPem: o.keyPem }
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

  async close (): Promise<void> {
    await this.#pool.destroy()
  }
}
