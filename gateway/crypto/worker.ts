/**
 * Piscina worker for the crypto pool: the gateway's signatures and checks of member
 * signatures, off the event loop. The gateway's key comes once, in
 * workerData, and is parsed once per thread (a PEM parsed per call halves RSA speed).
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { workerData } from 'node:worker_threads'
import { signInput, verifyInput, type JwsAlg } from './jws.js'

const data = (workerData ?? {}) as { keyPem?: string }
const key: KeyObject | undefined = data.keyPem === undefined ? undefined : createPrivateKey(data.keyPem)

/** One signature to check: the JWS signing input made by the caller (one buffer to copy, not a header object to clone). */
export interface VerifyItem { alg: JwsAlg, input: Uint8Array, signature: Uint8Array, spki: Uint8Array }

export type CryptoTask =
  | { op: 'sign', alg: JwsAlg, input: Uint8Array }
  | { op: 'verify', items: VerifyItem[] }

/** Public keys by their SPKI (base64): members sign many requests with one certificate. */
const keys = new Map<string, KeyObject>()
const publicKey = (spki: Uint8Array): KeyObject => {
  const id = Buffer.from(spki).toString('base64')
  let k = keys.get(id)
  if (k === undefined) {
    if (keys.size > 1000) keys.clear()
    k = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
    keys.set(id, k)
  }
  return k
}

export default function run (task: CryptoTask): Uint8Array | boolean[] {
  switch (task.op) {
    case 'sign':
      if (key === undefined) throw new TypeError('the crypto pool has no signing key')
      return signInput(task.alg, Buffer.from(task.input), key)
    case 'verify':
      return task.items.map((v) => verifyInput(v.alg, Buffer.from(v.input), Buffer.from(v.signature), publicKey(v.spki)))
  }
}

