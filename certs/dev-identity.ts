/**
 * A development signing identity: an RSA-2048 key and a self-signed certificate, made with
 * node-forge (certificate tooling; the key pair itself comes from node:crypto). Used when a
 * destination that signs (the tax service's WS-Security) has no key configured, in the dev
 * profile and in tests. Nothing is written to disk.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import forge from 'node-forge'

export interface SigningIdentity {
  keyPem: string
  certPem: string
}

export function devSigningIdentity (commonName = 'lgsp-dev'): SigningIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString())
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600_000)
  const name = [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'LGSP (development)' }, { name: 'countryName', value: 'VN' }]
  cert.setSubject(name)
  cert.setIssuer(name)
  cert.setExtensions([{ name: 'basicConstraints', cA: false }, { name: 'keyUsage', digitalSignature: true, nonRepudiation: true }])
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create())
  return { keyPem, certPem: forge.pki.certificateToPem(cert) }
}
