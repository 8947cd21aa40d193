/**
 * Who sent what: a message's log entries with their signatures checked again, for an
 * operator or an auditor. An inbound entry's member signature is checked over the logged
 * body and its certificate chain against the trust store as at the time of the entry; an
 * outbound entry's gateway signature (with its batch proof) against the gateway certificate.
 */
import { X509Certificate } from 'node:crypto'
import type { TrustStore } from '../../certs/trust.js'
import { parseSignature, verifyBatchSignature } from './batch-signer.js'
import { parseDetached, verifyDetached } from './jws.js'
import type { LogEntry } from './message-log.js'

export interface Evidence {
  seq: number
  at: string
  direction: LogEntry['direction']
  party: string
  kind: string
  contentSha256: string
  hash: string
  /** What the signature proves, or why it cannot be checked. */
  signature:
  | { checked: true, valid: boolean, signer: string, certificate?: string, alg?: string, chain?: string, batched?: boolean }
  | { checked: false, reason: string }
}

const subjectOf = (c: X509Certificate): string => c.subject.replace(/\n/g, ', ')

export function evidenceOf (e: LogEntry, gatewayCert: X509Certificate, trust?: TrustStore): Evidence {
  const base = { seq: e.seq, at: new Date(e.at).toISOString(), direction: e.direction, party: e.party, kind: e.kind, contentSha256: e.contentHash, hash: e.hash }
  if (e.signature === null) return { ...base, signature: { checked: false, reason: 'not signed' } }
  if (e.body === null) return { ...base, signature: { checked: false, reason: 'the body is kept as a digest only: the signature cannot be checked again here' } }
  if (e.direction === 'out') {
    const signed = parseSignature(e.signature)
    const check = verifyBatchSignature(e.body, signed, gatewayCert)
    return { ...base, signature: { checked: true, valid: check.ok, signer: subjectOf(gatewayCert), certificate: gatewayCert.fingerprint256, batched: signed.proof !== undefined } }
  }
  try {
    const jws = parseDetached(e.signature)
    const chain = (jws.header.x5c ?? []).map((c) => new X509Certificate(Buffer.from(c, 'base64')))
    const leaf = chain[0]
    if (leaf === undefined) return { ...base, signature: { checked: false, reason: 'the signature names no certificate' } }
    const verdict = trust?.validate(chain, e.at)
    return {
      ...base,
      signature: {
        checked: true,
        valid: verifyDetached(jws, e.body, leaf.publicKey),
        signer: subjectOf(leaf),
        certificate: leaf.fingerprint256,
        alg: jws.header.alg,
        chain: verdict === undefined ? 'not checked (no trust store)' : verdict.ok ? 'trusted at the time of the entry' : `${verdict.reason}: ${verdict.detail}`
      }
    }
  } catch (err) {
    return { ...base, signature: { checked: false, reason: `unreadable signature (${(err as Error).message})` } }
  }
}
