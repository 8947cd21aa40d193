import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Pki } from '../../certs/pki.js'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { TrustStore } from '../../certs/trust.js'
import { issueCrl, profileOf } from '../../certs/x509.js'
import { tempDir, toolAccepts } from '../helpers.js'

const run = promisify(execFile)

/** openssl verify with the CRL; true when it accepts the certificate. */
async function opensslVerify (pki: Pki, certPath: string): Promise<boolean> {
  return await toolAccepts('openssl', ['verify', '-CAfile', join(pki.dir, 'ca', 'ca.cert.pem'), '-crl_check', '-CRLfile', join(pki.dir, 'ca', 'ca.crl.pem'), certPath])
}

t.test('certs init makes a CA, a gateway certificate and RSA and ECDSA member certificates that openssl accepts', async (t) => {
  const pki = new Pki(tempDir(t))
  pki.init([{ id: 'onestop', kind: 'ec' }, { id: 'tax-office', kind: 'rsa' }])
  const trust = pki.trustStore()
  const ec = pki.member('onestop')
  const rsa = pki.member('tax-office')
  t.equal(ec.key.asymmetricKeyType, 'ec')
  t.equal(rsa.key.asymmetricKeyType, 'rsa')
  t.equal(pki.gateway().key.asymmetricKeyType, 'rsa')
  t.equal(trust.validate(ec.chain).ok, true)
  t.equal(trust.validate(rsa.chain).ok, true)
  t.same(profileOf(ec.chain[0]!).keyUsage, { digitalSignature: true, nonRepudiation: true, keyCertSign: false, cRLSign: false })
  t.equal(profileOf(ec.chain[1]!).ca, true)
  t.equal(await opensslVerify(pki, join(pki.dir, 'members', 'onestop', 'cert.pem')), true, 'openssl verifies the ECDSA member certificate')
  t.equal(await opensslVerify(pki, join(pki.dir, 'members', 'tax-office', 'cert.pem')), true, 'openssl verifies the RSA member certificate')
  t.equal((readFileSync(join(pki.dir, 'members', 'onestop', 'key.pem')).length > 0), true)
  t.throws(() => pki.init(), /already holds a CA/)
})

t.test('chain validation refuses revoked, expired, untrusted and non-CA chains', async (t) => {
  const pki = new Pki(tempDir(t))
  pki.init([{ id: 'onestop' }, { id: 'old' }])
  const m = pki.member('onestop')
  const expired = pki.issueMember('expired', 'ec', { days: 1, notBefore: new Date(Date.now() - 3 * 86_400_000) })
  t.match(pki.trustStore().validate(expired.chain), { ok: false, reason: 'expired' })
  t.match(pki.trustStore().validate(m.chain, Date.now() + 1000 * 86_400_000), { ok: false, reason: 'expired' }, 'past its notAfter')

  const other = new Pki(tempDir(t))
  other.init([{ id: 'onestop' }])
  t.match(pki.trustStore().validate(other.member('onestop').chain), { ok: false, reason: 'untrusted' })
  // A member certificate used as if it were a CA: issued by a leaf, refused.
  t.match(pki.trustStore().validate([m.chain[0]!, pki.member('old').chain[0]!]), { ok: true }, 'extra certificates in x5c are ignored')

  pki.revoke('onestop')
  t.match(pki.trustStore().validate(m.chain), { ok: false, reason: 'revoked' })
  t.equal(await opensslVerify(pki, join(pki.dir, 'members', 'onestop', 'cert.pem')), false, 'openssl reads the CRL the same way')
  t.equal(pki.trustStore().validate(pki.member('old').chain).ok, true, 'other members are untouched')
  t.throws(() => pki.revoke('onestop'), /No unrevoked certificate/)
})

t.test('imports a PKCS#12 file made by openssl, RSA or ECDSA, and refuses a wrong password', async (t) => {
  const pki = new Pki(tempDir(t))
  pki.init([{ id: 'rsa-src', kind: 'rsa' }, { id: 'ec-src', kind: 'ec' }])
  for (const [src, kind] of [['rsa-src', 'rsa'], ['ec-src', 'ec']] as const) {
    const p12 = join(pki.dir, `${src}.p12`)
    await run('openssl', ['pkcs12', '-export', '-inkey', join(pki.dir, 'members', src, 'key.pem'), '-in', join(pki.dir, 'members', src, 'chain.pem'), '-out', p12, '-passout', 'pass:mat-khau-123'])
    const imported = pki.importPkcs12(`${src}-imported`, readFileSync(p12), 'mat-khau-123')
    t.equal(imported.key.asymmetricKeyType, kind)
    t.equal(imported.chain.length, 2)
    t.match(imported.subject, `CN=${src}`)
    t.equal(pki.member(`${src}-imported`).chain[0]!.fingerprint256, pki.member(src).chain[0]!.fingerprint256)
    t.throws(() => pki.importPkcs12('x', readFileSync(p12), 'wrong'), /check the password/)
  }
  const foreign = new Pki(tempDir(t))
  foreign.init([{ id: 'm', kind: 'ec' }])
  const p12 = join(foreign.dir, 'm.p12')
  await run('openssl', ['pkcs12', '-export', '-inkey', join(foreign.dir, 'members', 'm', 'key.pem'), '-in', join(foreign.dir, 'members', 'm', 'chain.pem'), '-out', p12, '-passout', 'pass:pw'])
  t.throws(() => pki.importPkcs12('m', readFileSync(p12), 'pw'), /does not validate \(untrusted/)
  t.equal(pki.importPkcs12('m', readFileSync(p12), 'pw', { trustIssuers: true }).chain.length, 2, 'with --trust-issuers its CA joins the trust store')
})

t.test('a CRL past its nextUpdate is still applied, and reported as stale', async (t) => {
  const pki = new Pki(tempDir(t))
  pki.init([{ id: 'm' }])
  const ca = { cert: new X509Certificate(readFileSync(join(pki.dir, 'ca', 'ca.cert.pem'))), key: createPrivateKey(readFileSync(join(pki.dir, 'ca', 'ca.key.pem'))) }
  const m = pki.member('m')
  const trust = new TrustStore()
  trust.addAnchor(ca.cert)
  trust.addCrl(issueCrl(ca, [{ serial: m.chain[0]!.serialNumber, at: new Date() }], 30, new Date(Date.now() - 40 * 86_400_000)))
  t.match(trust.validate(m.chain), { ok: false, reason: 'revoked' })
  t.same(trust.staleCrls(), ['C=VN, O=LGSP (development), CN=LGSP Development CA'])
  t.same(pki.trustStore().staleCrls(), [], 'a fresh CRL is not stale')
})
