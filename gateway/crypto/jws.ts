/**
 * JWS with a detached payload (RFC 7515 appendix F) and, by default, an unencoded one
 * (RFC 7797: `"b64": false`, listed in `crit`): the signing input is
 * ASCII(BASE64URL(protected header)) || "." || the payload bytes, so anyone can check a
 * signature with openssl over exactly the body that was sent. Compact form
 * `header..signature`. RS256, PS256 and ES256 (ECDSA signatures are raw r || s, RFC 7518
 * 3.4). node:crypto only: this is the hot path.
 */
import { constants, sign as cryptoSign, verify as cryptoVerify, type KeyObject, type SignKeyObjectInput, type VerifyKeyObjectInput } from 'node:crypto'

export type JwsAlg = 'RS256' | 'PS256' | 'ES256'

export const JWS_ALGS: readonly JwsAlg[] = ['RS256', 'PS256', 'ES256']

export interface JwsHeader {
  alg: JwsAlg
  /** Certificate chain, leaf first, base64 (not base64url) DER (RFC 7515 4.1.6). */
  x5c?: string[]
  b64?: boolean
  crit?: string[]
  typ?: string
  [param: string]: unknown
}

export interface ParsedJws {
  header: JwsHeader
  headerB64: string
  signature: Buffer
}

/** Why a JWS could not be read (the caller maps it to its error code). */
export class JwsFormatError extends Error {}

/** The algorithm that fits a key: ES256 for P-256, RS256 for RSA. */
export function algFor (key: KeyObject): JwsAlg {
  return key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256'
}

const keyInput = <T extends SignKeyObjectInput | VerifyKeyObjectInput>(alg: JwsAlg, key: KeyObject): T => (
  alg === 'PS256'
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
    : alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : { key }) as T

export function signingInput (headerB64: string, payload: Buffer | string, b64: boolean): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload
  return Buffer.concat([Buffer.from(`${headerB64}.`), b64 ? Buffer.from(body.toString('base64url')) : body])
}

/** Signs over a signing input (used by workers that received it ready-made). */
export function signInput (alg: JwsAlg, input: Buffer, key: KeyObject): Buffer {
  return cryptoSign('sha256', input, keyInput<SignKeyObjectInput>(alg, key))
}

export function protectedHeader (alg: JwsAlg, x5c: readonly string[] | undefined, extra: Record<string, unknown> = {}): string {
  const header: JwsHeader = { alg, b64: false, crit: ['b64'], ...extra }
  if (x5c !== undefined) header.x5c = [...x5c]
  return Buffer.from(JSON.stringify(header)).toString('base64url')
}

/** A detached, unencoded-payload JWS over `payload`. */
export function signDetached (payload: Buffer | string, key: KeyObject, options: { alg?: JwsAlg, x5c?: readonly string[], header?: Record<string, unknown> } = {}): string {
  const alg = options.alg ?? algFor(key)
  const headerB64 = protectedHeader(alg, options.x5c, options.header)
  return `${headerB64}..${signInput(alg, signingInput(headerB64, payload, false), key).toString('base64url')}`
}

const B64URL = /^[A-Za-z0-9_-]+$/

/** Protected headers already read, by their base64url text: a member sends the same one with every request. */
const headers = new Map<string, JwsHeader>()

/** Reads a compact detached JWS; throws JwsFormatError when it is not one this gateway accepts. */
export function parseDetached (compact: string): ParsedJws {
  const parts = compact.split('.')
  if (parts.length !== 3 || parts[1] !== '') throw new JwsFormatError('not a compact JWS with a detached payload (header..signature)')
  const [headerB64, , sigB64] = parts as [string, string, string]
  if (!B64URL.test(sigB64)) throw new JwsFormatError('the signature is not base64url')
  const known = headers.get(headerB64)
  if (known !== undefined) return withSignature(known, headerB64, sigB64)
  if (!B64URL.test(headerB64)) throw new JwsFormatError('the header is not base64url')
  let header: JwsHeader
  try {
    header = JSON.parse(Buffer.from(headerB64, 'base64url').toString('utf8')) as JwsHeader
  } catch {
    throw new JwsFormatError('the protected header is not JSON')
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new JwsFormatError('the protected header is not a JSON object')
  if (!JWS_ALGS.includes(header.alg)) throw new JwsFormatError(`alg must be one of ${JWS_ALGS.join(', ')}`)
  if (header.b64 !== undefined && typeof header.b64 !== 'boolean') throw new JwsFormatError('b64 must be a boolean')
  // RFC 7797 3: b64 must be understood, so it must be listed in crit; every crit entry must be one this gateway knows.
  if (header.crit !== undefined && (!Array.isArray(header.crit) || header.crit.some((c) => c !== 'b64'))) throw new JwsFormatError('crit may list only b64')
  if (header.b64 === false && header.crit?.includes('b64') !== true) throw new JwsFormatError('b64:false must be listed in crit')
  if (header.x5c !== undefined && (!Array.isArray(header.x5c) || header.x5c.some((c) => typeof c !== 'string'))) throw new JwsFormatError('x5c must be an array of base64 certificates')
  if (headers.size >= 256) headers.clear()
  headers.set(headerB64, header)
  return withSignature(header, headerB64, sigB64)
}

function withSignature (header: JwsHeader, headerB64: string, sigB64: string): ParsedJws {
  const signature = Buffer.from(sigB64, 'base64url')
  if (header.alg === 'ES256' && signature.length !== 64) throw new JwsFormatError('an ES256 signature is 64 bytes (r || s)')
  return { header, headerB64, signature }
}

/** The signing input of a parsed JWS over a payload. */
export const inputOf = (jws: ParsedJws, payload: Buffer | string): Buffer => signingInput(jws.headerB64, payload, jws.header.b64 !== false)

/** Checks a signature over a ready signing input. */
export function verifyInput (alg: JwsAlg, input: Buffer, signature: Buffer, key: KeyObject): boolean {
  try {
    return cryptoVerify('sha256', input, keyInput<VerifyKeyObjectInput>(alg, key), signature)
  } catch {
    // A key of the wrong kind for alg (an RSA key with ES256): not a valid signature.
    return false
  }
}

/** Checks a parsed JWS against the payload and a public key. */
export function verifyDetached (jws: ParsedJws, payload: Buffer | string, key: KeyObject): boolean {
  return verifyInput(jws.header.alg, inputOf(jws, payload), jws.signature, key)
}
