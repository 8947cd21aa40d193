/**
 * Piscina worker for the crypto pool: RSA/ECDSA signatures and verification of large
 * payloads, and XML signing, off the event loop. The gateway's key comes once, in
 * workerData, and is parsed once per thread (a PEM parsed per call halves RSA speed).
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { workerData } from 'node:worker_threads'
import { signInput, verifyDetached, type JwsAlg, type JwsHeader } from './jws.js'
import { signXmlEnveloped } from './xml-signature.js'

const data = (workerData ?? {}) as { keyPem?: string, certPem?: string }
const key: KeyObject | undefined = data.keyPem === undefined ? undefined : createPrivateKey(data.keyPem)

export type CryptoTask =
  | { op: 'sign', alg: JwsAlg, input: Uint8Array }
  | { op: 'verify', header: JwsHeader, headerB64: string, payload: string, signature: Uint8Array, spki: Uint8Array }
  | { op: 'xml', xml: string, rootId?: string }

export default function run (task: CryptoTask): Uint8Array | boolean | string {
  switch (task.op) {
    case 'sign':
      if (key === undefined) throw new TypeError('the crypto pool has no signing key')
      return signInput(task.alg, Buffer.from(task.input), key)
    case 'verify':
      return verifyDetached({ header: task.header, headerB64: task.headerB64, signature: Buffer.from(task.signature) }, task.payload,
        createPublicKey({ key: Buffer.from(task.spki), format: 'der', type: 'spki' }))
    case 'xml':
      if (key === undefined || data.certPem === undefined) throw new TypeError('the crypto pool has no signing key')
      return signXmlEnveloped(task.xml, key, data.certPem)
  }
}

