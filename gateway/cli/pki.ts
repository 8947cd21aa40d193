/** `lgsp certs …`, `lgsp verify`, `lgsp members hash-secret`: keys, certificates, receipts. */
import { X509Certificate } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { Pki } from '../../certs/pki.js'
import type { KeyKind } from '../../certs/x509.js'
import { loadConfig } from '../config.js'
import { lgspError } from '../errors.js'
import { verifyReceipt, type Receipt } from '../crypto/receipts.js'
import { hashSecret } from '../members.js'
import type { Context, Values } from './context.js'

/** The PKI folder: --dir, else the config's pki.dir, else ./data/pki when there is no config. */
export function pkiOf (values: Values, file: string): Pki {
  if (typeof values.dir === 'string') return new Pki(values.dir)
  return new Pki(existsSync(file) ? loadConfig(file).pki.dir : './data/pki')
}

/** The gateway certificate an offline check trusts: --cert, else the PKI folder's. */
export function gatewayCert (values: Values, file: string): X509Certificate {
  const path = typeof values.cert === 'string' ? values.cert : join(pkiOf(values, file).dir, 'gateway', 'cert.pem')
  return new X509Certificate(readFileSync(path))
}

const keyKind = (v: unknown): KeyKind => {
  if (v !== 'ec' && v !== 'rsa') throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', '--key is ec (ECDSA P-256) or rsa (RSA-2048).')
  return v
}

async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

const missing = (cmd: string, what: string): number => { process.stderr.write(`lgsp ${cmd}: give ${what} (lgsp ${cmd} --help)\n`); return 2 }

export async function certsInit ({ values, file, out }: Context): Promise<number> {
  const pki = pkiOf(values, file)
  const ids = typeof values.members === 'string'
    ? values.members.split(',').map((m) => m.trim()).filter((m) => m !== '')
    : existsSync(file) ? loadConfig(file).members.map((m) => m.id) : []
  pki.init(ids.map((id) => ({ id, kind: keyKind(values.key) })))
  out.result({ dir: pki.dir, gateway: pki.gateway().chain[0]!.fingerprint256, members: ids })
  return 0
}

export async function certsIssue ({ values, file, args, out }: Context): Promise<number> {
  if (args[0] === undefined) return missing('certs issue', 'the member id')
  const pki = pkiOf(values, file)
  const id = pki.issueMember(args[0], keyKind(values.key), typeof values.days === 'string' ? { days: Number(values.days) } : {})
  out.result({ member: args[0], serial: id.chain[0]!.serialNumber, validTo: id.chain[0]!.validTo, dir: join(pki.dir, 'members', args[0]) })
  return 0
}

export async function certsRevoke ({ values, file, args, out }: Context): Promise<number> {
  if (args[0] === undefined) return missing('certs revoke', 'the member id or certificate serial')
  const pki = pkiOf(values, file)
  out.result({ revoked: pki.revoke(args[0]), crl: join(pki.dir, 'ca', 'ca.crl.pem') })
  return 0
}

export async function certsImport ({ values, file, args, out }: Context): Promise<number> {
  if (args[0] === undefined || args[1] === undefined) return missing('certs import', 'MEMBER and FILE.p12')
  const pki = pkiOf(values, file)
  // The password comes from an environment variable or stdin, never from the command line (ps, shell history).
  const password = typeof values['password-env'] === 'string' ? process.env[values['password-env']] ?? '' : (await readStdin()).replace(/\r?\n$/, '')
  const r = pki.importPkcs12(args[0], readFileSync(args[1]), password, { trustIssuers: values['trust-issuers'] === true })
  out.result({ member: args[0], subject: r.subject, chain: r.chain.length, key: r.key.asymmetricKeyType })
  return 0
}

export async function certsTrust ({ values, file, args, out }: Context): Promise<number> {
  if (args[0] === undefined) return missing('certs trust', 'the CA certificate file (PEM)')
  const pki = pkiOf(values, file)
  const n = pki.trust(typeof values.name === 'string' ? values.name : basename(args[0]).replace(/\.(pem|crt|cer)$/, ''), readFileSync(args[0], 'utf8'))
  out.result({ trusted: n, dir: pki.trustDir })
  return 0
}

export async function verify ({ values, file, args, out }: Context): Promise<number> {
  if (args[0] === undefined) return missing('verify', 'the receipt file (RECEIPT.json)')
  const receipt = JSON.parse(readFileSync(args[0], 'utf8')) as Receipt & { receipt?: Receipt }
  // A whole 202 reply is accepted too: its receipt is checked.
  const r = receipt.receipt ?? receipt
  const check = verifyReceipt(r, gatewayCert(values, file), typeof values.body === 'string' ? readFileSync(values.body) : undefined)
  out.result(check.ok ? { ok: true, batched: check.batched, messageId: r.statement.messageId, receivedAt: r.statement.receivedAt, sender: r.statement.sender } : check)
  return check.ok ? 0 : 1
}

export async function hashSecretCommand ({ out }: Context): Promise<number> {
  const secret = (await readStdin()).trim()
  if (secret.length < 16) { process.stderr.write('lgsp members hash-secret: the secret must have at least 16 characters\n'); return 2 }
  out.result(out.json ? { clientSecretHash: hashSecret(secret) } : hashSecret(secret))
  return 0
}
