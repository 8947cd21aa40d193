/**
 * A PKI folder: the development CA, the gateway's identity, member certificates and the
 * trust store, as `lgsp certs …` manages them. Private keys are written 0600; the folder
 * lives under data/ (git-ignored).
 *
 *   ca/ca.key.pem ca/ca.cert.pem ca/issued.json   the development CA and what it issued
 *   trust/*.pem trust/*.crl.pem                    trust anchors and CRLs the gateway loads
 *   gateway/key.pem gateway/cert.pem gateway/chain.pem
 *   members/<id>/key.pem cert.pem chain.pem
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto'
import forge from 'node-forge'
import { certificatesFromPem, PkiError, TrustStore } from './trust.js'

export { PkiError } from './trust.js'
import { generateKey, issueCertificate, issueCrl, keyToPem, type KeyKind } from './x509.js'

export interface Identity {
  key: KeyObject
  /** Leaf first, then the issuers (the JWS x5c order). */
  chain: X509Certificate[]
}

interface Issued {
  serial: string
  member: string
  kind: KeyKind
  notAfter: string
  revokedAt?: string
}

const CA_DAYS = 3650
const LEAF_DAYS = 825

const writeKey = (path: string, key: KeyObject): void => {
  writeFileSync(path, keyToPem(key), { mode: 0o600 })
  chmodSync(path, 0o600)
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export class Pki {
  readonly dir: string

  constructor (dir: string) {
    this.dir = dir
  }

  get trustDir (): string {
    return join(this.dir, 'trust')
  }

  get exists (): boolean {
    return existsSync(join(this.dir, 'ca', 'ca.cert.pem'))
  }

  /** Creates the development CA (RSA-2048), its empty CRL and the gateway's RSA-2048 certificate; issues the members given. */
  init (members: ReadonlyArray<{ id: string, kind?: KeyKind }> = []): void {
    if (this.exists) throw new PkiError(`${this.dir} already holds a CA; use "lgsp certs issue" to add members.`)
    for (const d of ['ca', 'trust', 'gateway', 'members']) mkdirSync(join(this.dir, d), { recursive: true })
    const { privateKey, publicKey } = generateKey('rsa')
    const certPem = issueCertificate({ subject: { commonName: 'LGSP Development CA' }, publicKey, selfKey: privateKey, ca: true, pathLen: 1, days: CA_DAYS })
    writeKey(join(this.dir, 'ca', 'ca.key.pem'), privateKey)
    writeFileSync(join(this.dir, 'ca', 'ca.cert.pem'), certPem)
    writeFileSync(join(this.dir, 'trust', 'lgsp-dev-ca.pem'), certPem)
    this.#saveIssued([])
    this.#publishCrl()
    const gw = this.#issue('lgsp-gateway', 'rsa')
    const dir = join(this.dir, 'gateway')
    writeKey(join(dir, 'key.pem'), gw.key)
    writeFileSync(join(dir, 'cert.pem'), gw.certPem)
    writeFileSync(join(dir, 'chain.pem'), gw.certPem + certPem)
    for (const m of members) this.issueMember(m.id, m.kind ?? 'ec')
  }

  #ca (): { cert: X509Certificate, key: KeyObject } {
    if (!this.exists) throw new PkiError(`No CA in ${this.dir}: run "lgsp certs init" first.`)
    return {
      cert: new X509Certificate(readFileSync(join(this.dir, 'ca', 'ca.cert.pem'))),
      key: createPrivateKey(readFileSync(join(this.dir, 'ca', 'ca.key.pem')))
    }
  }

  #issued (): Issued[] {
    return JSON.parse(readFileSync(join(this.dir, 'ca', 'issued.json'), 'utf8')) as Issued[]
  }

  #saveIssued (list: Issued[]): void {
    writeFileSync(join(this.dir, 'ca', 'issued.json'), `${JSON.stringify(list, null, 2)}\n`)
  }

  #publishCrl (): void {
    const crl = issueCrl(this.#ca(), this.#issued().filter((i) => i.revokedAt !== undefined).map((i) => ({ serial: i.serial, at: new Date(i.revokedAt!) })))
    writeFileSync(join(this.dir, 'ca', 'ca.crl.pem'), crl)
    writeFileSync(join(this.dir, 'trust', 'lgsp-dev-ca.crl.pem'), crl)
  }

  #issue (commonName: string, kind: KeyKind, days = LEAF_DAYS, notBefore?: Date): { key: KeyObject, certPem: string } {
    const ca = this.#ca()
    const { privateKey, publicKey } = generateKey(kind)
    const certPem = issueCertificate({ subject: { commonName }, publicKey, issuer: ca, ca: false, days, ...(notBefore === undefined ? {} : { notBefore }) })
    const cert = new X509Certificate(certPem)
    this.#saveIssued([...this.#issued(), { serial: cert.serialNumber, member: commonName, kind, notAfter: cert.validTo }])
    return { key: privateKey, certPem }
  }

  /** Issues a member certificate (subject CN = the member id unless given), replacing any earlier files of that member. */
  issueMember (id: string, kind: KeyKind = 'ec', options: { days?: number, notBefore?: Date, commonName?: string } = {}): Identity {
    if (!ID.test(id)) throw new PkiError(`"${id}" is not a member id.`)
    const { key, certPem } = this.#issue(options.commonName ?? id, kind, options.days, options.notBefore)
    const caPem = readFileSync(join(this.dir, 'ca', 'ca.cert.pem'), 'utf8')
    return this.#saveMember(id, key, [certPem, caPem].join(''))
  }

  #saveMember (id: string, key: KeyObject, chainPem: string): Identity {
    const dir = join(this.dir, 'members', id)
    mkdirSync(dir, { recursive: true })
    writeKey(join(dir, 'key.pem'), key)
    const chain = certificatesFromPem(chainPem)
    writeFileSync(join(dir, 'cert.pem'), chain[0]!.toString())
    writeFileSync(join(dir, 'chain.pem'), chain.map((c) => c.toString()).join(''))
    return { key, chain }
  }

  /** Revokes every certificate of a member (or one serial) and republishes the CRL. */
  revoke (memberOrSerial: string, at = new Date()): string[] {
    const list = this.#issued()
    const hit = list.filter((i) => i.revokedAt === undefined && (i.member === memberOrSerial || i.serial === memberOrSerial.toUpperCase()))
    if (hit.length === 0) throw new PkiError(`No unrevoked certificate of "${memberOrSerial}" in ${this.dir}.`)
    for (const i of hit) i.revokedAt = at.toISOString()
    this.#saveIssued(list)
    this.#publishCrl()
    return hit.map((i) => i.serial)
  }

  /** Adds a CA certificate (PEM bundle) to the trust store. */
  trust (name: string, pem: string): number {
    const certs = certificatesFromPem(pem)
    if (certs.length === 0) throw new PkiError('No certificate in that file.')
    mkdirSync(this.trustDir, { recursive: true })
    writeFileSync(join(this.trustDir, `${name}.pem`), certs.map((c) => c.toString()).join(''))
    return certs.length
  }

  trustStore (): TrustStore {
    return TrustStore.fromDir(this.trustDir)
  }

  gateway (): Identity {
    return loadIdentity(join(this.dir, 'gateway', 'key.pem'), join(this.dir, 'gateway', 'chain.pem'))
  }

  member (id: string): Identity {
    return loadIdentity(join(this.dir, 'members', id, 'key.pem'), join(this.dir, 'members', id, 'chain.pem'))
  }

  /**
   * Imports a member's PKCS#12 file (.p12/.pfx, as Vietnamese CA tokens export them): its key
   * and certificate chain become members/<id>/. With `trustIssuers`, the CA certificates in the
   * file join the trust store; otherwise the chain must already lead to a trusted CA.
   */
  importPkcs12 (id: string, p12: Buffer, password: string, options: { trustIssuers?: boolean } = {}): Identity & { subject: string } {
    if (!ID.test(id)) throw new PkiError(`"${id}" is not a member id.`)
    const { key, chain } = readPkcs12(p12, password)
    if (options.trustIssuers === true && chain.length > 1) this.trust(`${id}-issuers`, chain.slice(1).map((c) => c.toString()).join(''))
    const result = this.trustStore().validate(chain)
    if (!result.ok) throw new PkiError(`The certificate in that file does not validate (${result.reason}: ${result.detail}); add its CA with --trust-issuers or "lgsp certs trust".`)
    const saved = this.#saveMember(id, key, chain.map((c) => c.toString()).join(''))
    return { ...saved, subject: chain[0]!.subject.replace(/\n/g, ', ') }
  }
}

export function loadIdentity (keyPath: string, chainPath: string): Identity {
  const chain = certificatesFromPem(readFileSync(chainPath, 'utf8'))
  if (chain.length === 0) throw new PkiError(`No certificate in ${chainPath}.`)
  const key = createPrivateKey(readFileSync(keyPath))
  if (!chain[0]!.checkPrivateKey(key)) throw new PkiError(`${keyPath} is not the key of the first certificate in ${chainPath}.`)
  return { key, chain }
}

/** Key and certificates of a PKCS#12 file (RFC 7292); the chain is ordered leaf first. */
export function readPkcs12 (data: Buffer, password: string): Identity {
  let p12: forge.pkcs12.Pkcs12Pfx
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(data.toString('binary'))), false, password)
  } catch (err) {
    throw new PkiError(`Cannot open the PKCS#12 file (${(err as Error).message}); check the password.`)
  }
  let key: KeyObject | undefined
  const certs: X509Certificate[] = []
  for (const sc of p12.safeContents) {
    for (const bag of sc.safeBags) {
      // node-forge decodes RSA only; other keys and certificates come as raw ASN.1 (`asn1`).
      const raw = (bag as unknown as { asn1?: forge.asn1.Asn1 }).asn1
      if (bag.type === forge.pki.oids.pkcs8ShroudedKeyBag || bag.type === forge.pki.oids.keyBag) {
        const der = bag.key !== undefined && bag.key !== null
          ? forge.asn1.toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key as forge.pki.rsa.PrivateKey))).getBytes()
          : forge.asn1.toDer(raw!).getBytes()
        key = createPrivateKey({ key: Buffer.from(der, 'binary'), format: 'der', type: 'pkcs8' })
      } else if (bag.type === forge.pki.oids.certBag) {
        const der = bag.cert !== undefined && bag.cert !== null ? forge.asn1.toDer(forge.pki.certificateToAsn1(bag.cert)).getBytes() : forge.asn1.toDer(raw!).getBytes()
        certs.push(new X509Certificate(Buffer.from(der, 'binary')))
      }
    }
  }
  if (key === undefined) throw new PkiError('The PKCS#12 file holds no private key.')
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' })
  const leaf = certs.find((c) => c.publicKey.export({ type: 'spki', format: 'der' }).equals(spki))
  if (leaf === undefined) throw new PkiError('The PKCS#12 file holds no certificate for its key.')
  const chain = [leaf]
  for (let c = leaf; chain.length <= certs.length;) {
    const next = certs.find((x) => !chain.includes(x) && c.checkIssued(x))
    if (next === undefined) break
    chain.push(next)
    c = next
  }
  return { key, chain }
}

