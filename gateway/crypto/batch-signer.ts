/**
 * Batch signatures (X-Road's idea): signing every message with RSA-2048 caps a core at
 * about 1,300 messages a second, so under load the gateway signs one Merkle root over all
 * the messages waiting and gives each its inclusion proof. Batches form by themselves:
 * while a signature is being made, new messages queue; the next signature takes them all
 * (up to batchMax). When the gateway is idle a batch holds one message, and its signature
 * is a plain detached JWS over the message itself. Under load a signature starts at most
 * every `intervalMs`: messages arriving meanwhile join the next batch, so RSA work stays a
 * small, bounded share of a core (about 650 µs per signature) however many messages come.
 *
 * The protected header names the gateway's certificate by its SHA-256 thumbprint
 * (`x5t#S256`, RFC 7515 4.1.8) rather than carrying it: receipts stay small, and the
 * certificate is what the verifier holds anyway.
 *
 * A batch signature is a detached JWS whose payload is `<batch size>:<root in lowercase
 * hex>` (the size is signed, as a CT tree head signs its tree size), with
 * `"lgsp_merkle": "rfc9162-sha256"` in its protected header; the proof gives the leaf's
 * index, the batch size and the audit path (base64url hashes).
 */
import { createHash, type X509Certificate } from 'node:crypto'
import type { Identity } from '../../certs/pki.js'
import { metrics } from '../metrics.js'
import { algFor, parseDetached, protectedHeader, signInput, signingInput, verifyDetached, type JwsAlg } from './jws.js'
import { buildTree, leafHash, rootFromPath } from './merkle.js'
import type { CryptoPool } from './pool.js'

export const MERKLE_PARAM = 'lgsp_merkle'
export const MERKLE_SCHEME = 'rfc9162-sha256'

export interface InclusionProof {
  index: number
  size: number
  path: string[]
}

export interface BatchSignature {
  /** Detached JWS: over the message itself, or over the batch's Merkle root when `proof` is present. */
  signature: string
  proof?: InclusionProof
}

interface Waiting {
  data: Buffer
  resolve: (s: BatchSignature) => void
  reject: (err: unknown) => void
}

export interface BatchSignerOptions {
  identity: Identity
  /** Signs in the worker pool when given, else on the event loop. */
  pool?: CryptoPool
  batchMax: number
  /** Signatures in progress at once (the pool's threads). */
  concurrency?: number
  /** Least time between the starts of two signatures, ms (0: sign as soon as the last one is done). */
  intervalMs?: number
}

export class BatchSigner {
  readonly #alg: JwsAlg
  readonly #thumbprint: string
  readonly #options: BatchSignerOptions
  #queue: Waiting[] = []
  #inFlight = 0
  #scheduled = false
  #lastStart = 0
  /** Counters for operators and the benchmark. */
  readonly stats = { signatures: 0, messages: 0, largestBatch: 0 }

  constructor (o: BatchSignerOptions) {
    this.#options = o
    this.#alg = algFor(o.identity.key)
    this.#thumbprint = thumbprint(o.identity.chain[0]!)
  }

  get certificate (): X509Certificate {
    return this.#options.identity.chain[0]!
  }

  /** Signs one message (its exact bytes), alone or in the current batch. */
  sign (data: Buffer | string): Promise<BatchSignature> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ data: typeof data === 'string' ? Buffer.from(data) : data, resolve, reject })
      this.#kick()
    })
  }

  #kick (): void {
    if (this.#scheduled || this.#inFlight >= (this.#options.concurrency ?? 1) || this.#queue.length === 0) return
    // Wait for the rest of this event-loop turn (every request already read joins the batch), and under load for the interval.
    this.#scheduled = true
    const wait = (this.#options.intervalMs ?? 0) - (Date.now() - this.#lastStart)
    const go = (): void => {
      this.#scheduled = false
      this.#lastStart = Date.now()
      const batch = this.#queue.splice(0, this.#options.batchMax)
      if (batch.length === 0) return
      this.#inFlight++
      this.#signBatch(batch).finally(() => {
        this.#inFlight--
        this.#kick()
      })
    }
    if (wait > 0) setTimeout(go, wait)
    else setImmediate(go)
  }

  async #signBatch (batch: Waiting[]): Promise<void> {
    try {
      if (batch.length === 1) {
        const w = batch[0]!
        w.resolve({ signature: await this.#jws(w.data, {}) })
      } else {
        const { root, paths } = buildTree(batch.map((w) => leafHash(w.data)))
        const signature = await this.#jws(batchPayload(batch.length, root), { [MERKLE_PARAM]: MERKLE_SCHEME })
        batch.forEach((w, index) => w.resolve({ signature, proof: { index, size: batch.length, path: paths[index]!.map((h) => h.toString('base64url')) } }))
      }
      this.stats.signatures++
      this.stats.messages += batch.length
      this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length)
      metrics.batch(batch.length, true)
    } catch (err) {
      metrics.batch(batch.length, false)
      for (const w of batch) w.reject(err)
    }
  }

  async #jws (payload: Buffer, extra: Record<string, unknown>): Promise<string> {
    const headerB64 = protectedHeader(this.#alg, undefined, { 'x5t#S256': this.#thumbprint, ...extra })
    const input = signingInput(headerB64, payload, false)
    const sig = this.#options.pool === undefined ? signInput(this.#alg, input, this.#options.identity.key) : await this.#options.pool.sign(this.#alg, input)
    return `${headerB64}..${sig.toString('base64url')}`
  }
}

/** An inclusion proof as one header value: base64url of its JSON (X-Lgsp-Signature-Proof). */
export const encodeProof = (p: InclusionProof): string => Buffer.from(JSON.stringify(p)).toString('base64url')
export const decodeProof = (text: string): InclusionProof => JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as InclusionProof

/** A batch signature as one text (the message log's signature field): the JWS, then a space and the encoded proof when batched. */
export const formatSignature = (s: BatchSignature): string => s.proof === undefined ? s.signature : `${s.signature} ${encodeProof(s.proof)}`
export function parseSignature (text: string): BatchSignature {
  const [signature, proof] = text.split(' ') as [string, string | undefined]
  return proof === undefined ? { signature } : { signature, proof: decodeProof(proof) }
}

/** What a batch signature signs: the batch size and the Merkle root. */
export const batchPayload = (size: number, root: Buffer): Buffer => Buffer.from(`${size}:${root.toString('hex')}`)

/** SHA-256 thumbprint of a certificate (JWS x5t#S256). */
export const thumbprint = (cert: X509Certificate): string => createHash('sha256').update(cert.raw).digest('base64url')

export type BatchCheck = { ok: true, batched: boolean } | { ok: false, reason: string }

/** Checks a message against its batch signature and proof with the signer's certificate alone. */
export function verifyBatchSignature (data: Buffer | string, s: BatchSignature, cert: X509Certificate): BatchCheck {
  let jws
  try {
    jws = parseDetached(s.signature)
  } catch (err) {
    return { ok: false, reason: `the signature is not a detached JWS (${(err as Error).message})` }
  }
  const named = jws.header['x5t#S256']
  if (named !== undefined && named !== thumbprint(cert)) return { ok: false, reason: 'signed with another certificate than the one given (x5t#S256 differs)' }
  const batched = jws.header[MERKLE_PARAM] !== undefined
  if (batched !== (s.proof !== undefined)) return { ok: false, reason: batched ? 'a batch signature needs its inclusion proof' : 'a proof was given for a single signature' }
  let payload: Buffer
  if (s.proof === undefined) {
    payload = typeof data === 'string' ? Buffer.from(data) : data
  } else {
    if (jws.header[MERKLE_PARAM] !== MERKLE_SCHEME) return { ok: false, reason: `unknown Merkle scheme ${String(jws.header[MERKLE_PARAM])}` }
    const root = rootFromPath(leafHash(data), s.proof.index, s.proof.size, s.proof.path.map((p) => Buffer.from(p, 'base64url')))
    if (root === undefined) return { ok: false, reason: 'the inclusion proof does not fit the batch size' }
    payload = batchPayload(s.proof.size, root)
  }
  if (!verifyDetached(jws, payload, cert.publicKey)) {
    return { ok: false, reason: s.proof === undefined ? 'the signature does not match the message' : 'the message is not in the signed batch (the proof leads to another root)' }
  }
  return { ok: true, batched }
}
