/**
 * The trust store: CA certificates the gateway accepts member certificates from, and the
 * CRLs they publish. Chain validation follows RFC 5280 6.1 in the parts that matter here:
 * each certificate signed by the next, issuers are CAs allowed to sign certificates
 * (basicConstraints, keyUsage, path length), every certificate valid at the time of use,
 * none on its issuer's CRL, the path ending at a trust anchor. Signatures are checked with
 * node:crypto; node-forge only reads extensions.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { verify, X509Certificate } from 'node:crypto'
import { normalSerial, parseCrl, profileOf, type Crl } from './x509.js'

/** A PKI operation that cannot be done as asked; its message says why and what to do. */
export class PkiError extends Error {}

export type ChainFailure = 'malformed' | 'untrusted' | 'expired' | 'revoked'

export type ChainResult =
  | { ok: true, leaf: X509Certificate, path: X509Certificate[] }
  | { ok: false, reason: ChainFailure, detail: string }

const MAX_PATH = 6

/** Splits a PEM bundle into certificates. */
export function certificatesFromPem (pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((c) => new X509Certificate(c))
}

const issuedBy = (child: X509Certificate, issuer: X509Certificate): boolean => child.checkIssued(issuer) && child.verify(issuer.publicKey)

const timeOk = (c: X509Certificate, at: number): boolean => Date.parse(c.validFrom) <= at && at <= Date.parse(c.validTo)

const describe = (c: X509Certificate): string => c.subject.replace(/\n/g, ', ')

export class TrustStore {
  readonly #anchors: X509Certificate[] = []
  /** CRLs by the fingerprint of the CA whose key verified them. */
  readonly #crls = new Map<string, Crl>()

  /** Loads every `*.pem`/`*.crt` certificate and `*.crl` / `*.crl.pem` file of a folder. */
  static fromDir (dir: string): TrustStore {
    const store = new TrustStore()
    const files = readdirSync(dir).sort()
    for (const f of files) {
      if (/\.crl(\.pem)?$/.test(f)) continue
      if (/\.(pem|crt|cer)$/.test(f)) for (const c of certificatesFromPem(readFileSync(join(dir, f), 'utf8'))) store.addAnchor(c)
    }
    for (const f of files) if (/\.crl(\.pem)?$/.test(f)) store.addCrl(readFileSync(join(dir, f)))
    return store
  }

  get anchors (): readonly X509Certificate[] {
    return this.#anchors
  }

  addAnchor (cert: X509Certificate): void {
    if (!this.#anchors.some((a) => a.fingerprint256 === cert.fingerprint256)) this.#anchors.push(cert)
  }

  /** Adds a CRL; it must verify with a known CA's key (an anchor's, or an intermediate's given in `issuers`). */
  addCrl (data: Buffer | string, issuers: readonly X509Certificate[] = []): void {
    const crl = parseCrl(data)
    const ca = [...this.#anchors, ...issuers].find((c) => verify('sha256', crl.tbs, c.publicKey, crl.signature))
    if (ca === undefined) throw new PkiError('the CRL is not signed by a CA of the trust store')
    const prev = this.#crls.get(ca.fingerprint256)
    if (prev === undefined || prev.thisUpdate <= crl.thisUpdate) this.#crls.set(ca.fingerprint256, crl)
  }

  /** Validates a chain (leaf first, as in a JWS x5c header) at a time. */
  validate (chain: readonly X509Certificate[], at = Date.now()): ChainResult {
    if (chain.length === 0 || chain.length > MAX_PATH) return { ok: false, reason: 'malformed', detail: `a chain of ${chain.length} certificates` }
    const leaf = chain[0]!
    const path: X509Certificate[] = [leaf]
    let current = leaf
    for (let depth = 0; depth < MAX_PATH; depth++) {
      const anchor = this.#anchors.find((a) => a.fingerprint256 === current.fingerprint256 || issuedBy(current, a))
      const issuer = anchor ?? chain.slice(1).find((c) => c !== current && issuedBy(current, c))
      if (issuer === undefined) return { ok: false, reason: 'untrusted', detail: `no trusted issuer for ${describe(current)}` }
      const failure = this.#check(current, issuer, depth, at, anchor !== undefined && anchor.fingerprint256 === current.fingerprint256)
      if (failure !== undefined) return failure
      if (anchor !== undefined) {
        if (anchor.fingerprint256 !== current.fingerprint256) path.push(anchor)
        if (!timeOk(anchor, at)) return { ok: false, reason: 'expired', detail: `trust anchor ${describe(anchor)} is outside its validity period` }
        return { ok: true, leaf, path }
      }
      path.push(issuer)
      current = issuer
    }
    return { ok: false, reason: 'untrusted', detail: 'the chain is longer than allowed' }
  }

  #check (cert: X509Certificate, issuer: X509Certificate, depth: number, at: number, isAnchor: boolean): ChainResult | undefined {
    if (!timeOk(cert, at)) return { ok: false, reason: 'expired', detail: `${describe(cert)} is valid from ${cert.validFrom} to ${cert.validTo}` }
    const p = profileOf(cert)
    if (p.unknownCritical.length > 0) return { ok: false, reason: 'untrusted', detail: `unknown critical extension ${p.unknownCritical.join(', ')}` }
    if (depth === 0 && p.keyUsage !== undefined && !p.keyUsage.digitalSignature && !p.keyUsage.nonRepudiation) {
      return { ok: false, reason: 'untrusted', detail: 'the signing certificate is not for digital signatures (keyUsage)' }
    }
    if (isAnchor) return undefined
    const ip = profileOf(issuer)
    if (!ip.ca) return { ok: false, reason: 'untrusted', detail: `${describe(issuer)} is not a CA (basicConstraints)` }
    if (ip.keyUsage !== undefined && !ip.keyUsage.keyCertSign) return { ok: false, reason: 'untrusted', detail: `${describe(issuer)} may not sign certificates (keyUsage)` }
    // pathLenConstraint counts the intermediate CAs below the issuer; `depth` of them sit between it and the leaf.
    if (ip.pathLen !== undefined && depth - 1 > ip.pathLen) return { ok: false, reason: 'untrusted', detail: `${describe(issuer)} allows a path of ${ip.pathLen}` }
    const crl = this.#crls.get(issuer.fingerprint256)
    if (crl !== undefined && crl.serials.has(normalSerial(cert.serialNumber))) {
      return { ok: false, reason: 'revoked', detail: `${describe(cert)} (serial ${cert.serialNumber}) is on the CRL of ${describe(issuer)}` }
    }
    return undefined
  }

  /** Latest CRL update of a CA (for health reports). */
  crlOf (ca: X509Certificate): Crl | undefined {
    return this.#crls.get(ca.fingerprint256)
  }

  /** Trust anchors whose CRL is past its nextUpdate: still applied, but the CA has published a newer one. */
  staleCrls (at = Date.now()): string[] {
    return this.#anchors.filter((a) => {
      const next = this.#crls.get(a.fingerprint256)?.nextUpdate
      return next !== undefined && next.getTime() < at
    }).map((a) => a.subject.replace(/\n/g, ', '))
  }
}
