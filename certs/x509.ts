/**
 * Certificates and CRLs for the development CA, built with node-forge's ASN.1 (certificate
 * tooling only). node-forge knows RSA keys alone, so the subject key is always spliced in
 * as the SubjectPublicKeyInfo that node:crypto exports: the same code issues RSA-2048 and
 * ECDSA P-256 certificates. The CA signs with node:crypto (RFC 5280 sha256WithRSAEncryption
 * or ecdsa-with-SHA256, following the CA's own key).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject, X509Certificate } from 'node:crypto'
import forge from 'node-forge'

const { asn1 } = forge

export type KeyKind = 'rsa' | 'ec'

export interface Subject {
  commonName: string
  organizationName?: string
}

export interface IssueOptions {
  subject: Subject
  /** The subject's public key (any kind node:crypto knows). */
  publicKey: KeyObject
  /** Issuer certificate and key; omitted for a self-signed CA. */
  issuer?: { cert: X509Certificate, key: KeyObject }
  /** The key that signs when self-signed. */
  selfKey?: KeyObject
  ca: boolean
  /** Path length for a CA (basicConstraints pathLenConstraint). */
  pathLen?: number
  days: number
  /** Back-date notBefore (tests of expiry); default one minute ago. */
  notBefore?: Date
}

/** A fresh key pair: RSA-2048 or ECDSA P-256. */
export function generateKey (kind: KeyKind): { privateKey: KeyObject, publicKey: KeyObject } {
  return kind === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
}

export const keyToPem = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }).toString()

/** Key identifier (RFC 5280 4.2.1.2; RFC 7093 allows any consistent method): SHA-256 of the SPKI, first 20 bytes. */
export const keyIdentifier = (publicKey: KeyObject): Buffer =>
  createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest().subarray(0, 20)

const sigOid = (key: KeyObject): string => key.asymmetricKeyType === 'ec' ? '1.2.840.10045.4.3.2' : forge.pki.oids.sha256WithRSAEncryption!

/** AlgorithmIdentifier: RSA carries NULL parameters, ECDSA none (RFC 5758 3.2). */
function algorithmIdentifier (oid: string): forge.asn1.Asn1 {
  const parts = [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes())]
  if (oid === forge.pki.oids.sha256WithRSAEncryption) parts.push(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''))
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, parts)
}

const toDer = (node: forge.asn1.Asn1): Buffer => Buffer.from(asn1.toDer(node).getBytes(), 'binary')
// BIT STRINGs stay opaque: node-forge would otherwise try to read a signature or a key usage as ASN.1.
const fromDer = (der: Buffer): forge.asn1.Asn1 =>
  asn1.fromDer(forge.util.createBuffer(der.toString('binary')), { strict: true, decodeBitStrings: false } as unknown as boolean)

/** The subject Name of a certificate, as ASN.1 (TBSCertificate's sixth field, after the explicit version). */
const subjectName = (cert: X509Certificate): forge.asn1.Asn1 =>
  ((fromDer(cert.raw).value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[])[5]!

/** Signs a TBS structure and wraps it as Certificate / CertificateList: SEQUENCE { tbs, algorithm, BIT STRING }. */
function signed (tbs: forge.asn1.Asn1, key: KeyObject): Buffer {
  // ECDSA signatures are DER (r, s) in X.509, which is node:crypto's default encoding.
  const signature = sign('sha256', toDer(tbs), key)
  return toDer(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    algorithmIdentifier(sigOid(key)),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\u0000${signature.toString('binary')}`)
  ]))
}

const attrs = (s: Subject): forge.pki.CertificateField[] => [
  { name: 'countryName', value: 'VN' },
  { name: 'organizationName', value: s.organizationName ?? 'LGSP (development)' },
  { name: 'commonName', value: s.commonName }
]

/** Issues an X.509 v3 certificate; returns it as PEM. */
export function issueCertificate (o: IssueOptions): string {
  const signer = o.issuer?.key ?? o.selfKey
  if (signer === undefined) throw new TypeError('issueCertificate needs an issuer or a self key')
  const cert = forge.pki.createCertificate()
  // A placeholder forge key: node-forge encodes RSA keys only; the real SPKI replaces it below.
  const placeholder = signer.asymmetricKeyType === 'rsa' ? signer : createPrivateKey(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }))
  cert.publicKey = forge.pki.publicKeyFromPem(createPublicKey(placeholder).export({ type: 'spki', format: 'pem' }).toString())
  // A positive 16-byte serial (RFC 5280 4.1.2.2: at most 20 octets).
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`
  cert.validity.notBefore = o.notBefore ?? new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(cert.validity.notBefore.getTime() + o.days * 86_400_000)
  cert.setSubject(attrs(o.subject))
  cert.setIssuer(attrs(o.subject))
  const ski = keyIdentifier(o.publicKey).toString('binary')
  const aki = o.issuer === undefined ? ski : keyIdentifier(o.issuer.cert.publicKey).toString('binary')
  cert.setExtensions([
    { name: 'basicConstraints', cA: o.ca, critical: true, ...(o.ca && o.pathLen !== undefined ? { pathLenConstraint: o.pathLen } : {}) },
    o.ca
      ? { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true }
      : { name: 'keyUsage', critical: true, digitalSignature: true, nonRepudiation: true },
    { id: '2.5.29.14', value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, ski) },
    { name: 'authorityKeyIdentifier', keyIdentifier: aki }
  ])
  const oid = sigOid(signer)
  cert.siginfo.algorithmOid = oid
  cert.signatureOid = oid
  const tbs = (forge.pki as unknown as { getTBSCertificate: (c: forge.pki.Certificate) => forge.asn1.Asn1 }).getTBSCertificate(cert)
  // TBSCertificate: version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo, extensions.
  const children = tbs.value as forge.asn1.Asn1[]
  children[2] = algorithmIdentifier(oid)
  if (o.issuer !== undefined) children[3] = subjectName(o.issuer.cert)
  children[6] = fromDer(o.publicKey.export({ type: 'spki', format: 'der' }))
  return derToPem(signed(tbs, signer), 'CERTIFICATE')
}

export const derToPem = (der: Buffer, label: string): string =>
  `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`

const utcTime = (d: Date): forge.asn1.Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(d))

/** Serial number (hex, as X509Certificate.serialNumber gives it) as a DER INTEGER's content bytes. */
function serialBytes (hex: string): string {
  let h = hex.length % 2 === 1 ? `0${hex}` : hex
  if (parseInt(h.slice(0, 2), 16) >= 0x80) h = `00${h}`
  return forge.util.hexToBytes(h)
}

export interface Revocation {
  serial: string
  at: Date
}

/** A v2 CRL (RFC 5280 5.1) signed by the CA, as PEM. */
export function issueCrl (ca: { cert: X509Certificate, key: KeyObject }, revoked: readonly Revocation[], days = 30, thisUpdate = new Date()): string {
  const issuer = subjectName(ca.cert)
  const oid = sigOid(ca.key)
  const fields: forge.asn1.Asn1[] = [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, '\u0001'),
    algorithmIdentifier(oid),
    issuer,
    utcTime(thisUpdate),
    utcTime(new Date(thisUpdate.getTime() + days * 86_400_000))
  ]
  if (revoked.length > 0) {
    fields.push(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, revoked.map((r) =>
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, serialBytes(r.serial)),
        utcTime(r.at)
      ]))))
  }
  return derToPem(signed(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, fields), ca.key), 'X509 CRL')
}

/** A parsed CRL: who may have signed it is settled by verifying `tbs` against a CA key. */
export interface Crl {
  tbs: Buffer
  signature: Buffer
  thisUpdate: Date
  nextUpdate: Date | undefined
  /** Revoked serials, upper-case hex without leading zeros (X509Certificate.serialNumber's form). */
  serials: Set<string>
}

export const normalSerial = (hex: string): string => hex.toUpperCase().replace(/^0+(?=.)/, '')

/** Parses a DER or PEM CRL (RFC 5280 5.1). */
export function parseCrl (data: Buffer | string): Crl {
  const text = typeof data === 'string' ? data : data.toString('latin1')
  const der = text.includes('-----BEGIN X509 CRL-----')
    ? Buffer.from(text.replace(/-----(BEGIN|END) X509 CRL-----|\s/g, ''), 'base64')
    : Buffer.from(text, 'latin1')
  const root = fromDer(der)
  const [tbs, , sig] = root.value as forge.asn1.Asn1[]
  const f = tbs!.value as forge.asn1.Asn1[]
  // version is optional (absent in v1 CRLs).
  let i = f[0]!.type === asn1.Type.INTEGER ? 1 : 0
  i += 2 // signature, issuer
  const time = (n: forge.asn1.Asn1): Date => n.type === asn1.Type.UTCTIME ? asn1.utcTimeToDate(n.value as string) : asn1.generalizedTimeToDate(n.value as string)
  const thisUpdate = time(f[i++]!)
  let nextUpdate: Date | undefined
  if (f[i] !== undefined && (f[i]!.type === asn1.Type.UTCTIME || f[i]!.type === asn1.Type.GENERALIZEDTIME) && f[i]!.tagClass === asn1.Class.UNIVERSAL) nextUpdate = time(f[i++]!)
  const serials = new Set<string>()
  const list = f[i]
  if (list !== undefined && list.tagClass === asn1.Class.UNIVERSAL && list.type === asn1.Type.SEQUENCE) {
    for (const entry of list.value as forge.asn1.Asn1[]) {
      const serial = (entry.value as forge.asn1.Asn1[])[0]!.value as string
      serials.add(normalSerial(forge.util.bytesToHex(serial)))
    }
  }
  return {
    tbs: toDer(tbs!),
    signature: Buffer.from((sig!.value as string).slice(1), 'binary'),
    thisUpdate,
    nextUpdate,
    serials
  }
}

export interface CertificateProfile {
  ca: boolean
  pathLen: number | undefined
  /** keyUsage bits, or undefined when the extension is absent. */
  keyUsage: { digitalSignature: boolean, nonRepudiation: boolean, keyCertSign: boolean, cRLSign: boolean } | undefined
  /** OIDs of critical extensions this code does not understand. */
  unknownCritical: string[]
}

const UNDERSTOOD = new Set(['2.5.29.19', '2.5.29.15', '2.5.29.14', '2.5.29.35', '2.5.29.37', '2.5.29.17', '2.5.29.32', '2.5.29.31'])

/** basicConstraints and keyUsage of a certificate (RFC 5280 4.2.1.9, 4.2.1.3). */
export function profileOf (cert: X509Certificate): CertificateProfile {
  const tbs = (fromDer(cert.raw).value as forge.asn1.Asn1[])[0]!
  const out: CertificateProfile = { ca: false, pathLen: undefined, keyUsage: undefined, unknownCritical: [] }
  const ext = (tbs.value as forge.asn1.Asn1[]).find((n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 3)
  if (ext === undefined) return out
  for (const e of ((ext.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[])) {
    const parts = e.value as forge.asn1.Asn1[]
    const oid = asn1.derToOid(parts[0]!.value as string)
    const critical = parts.length === 3 && (parts[1]!.value as string) !== '\u0000'
    const value = fromDer(Buffer.from(parts[parts.length - 1]!.value as string, 'binary'))
    if (oid === '2.5.29.19') {
      for (const v of value.value as forge.asn1.Asn1[]) {
        if (v.type === asn1.Type.BOOLEAN) out.ca = (v.value as string) !== '\u0000'
        if (v.type === asn1.Type.INTEGER) out.pathLen = forge.util.createBuffer(v.value as string).getInt((v.value as string).length * 8)
      }
    } else if (oid === '2.5.29.15') {
      const bits = value.value as string
      // BIT STRING: first octet is the unused-bit count; bit 0 is the most significant bit of the next one.
      const b = bits.length > 1 ? bits.charCodeAt(1) : 0
      out.keyUsage = { digitalSignature: (b & 0x80) !== 0, nonRepudiation: (b & 0x40) !== 0, keyCertSign: (b & 0x04) !== 0, cRLSign: (b & 0x02) !== 0 }
    } else if (critical && !UNDERSTOOD.has(oid)) {
      out.unknownCritical.push(oid)
    }
  }
  return out
}
