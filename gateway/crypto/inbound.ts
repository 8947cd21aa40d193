/**
 * Signed inbound requests. A member signs the exact body bytes as a detached JWS (RS256,
 * PS256 or ES256, chain in x5c) and sends it in X-Lgsp-Signature. The chain must lead to
 * the trust store, be valid now and unrevoked, and its leaf must be the authenticated
 * member's certificate (subject CN is the member id, or one of the member's configured
 * `signature.subjects`): a valid signature by another member is refused.
 *
 * Chain checks are cached per x5c value for a minute (a CRL reload takes effect within
 * that); the signature itself is checked on every request, on the event loop for small
 * bodies and in the crypto pool for large ones.
 */
import { X509Certificate, type KeyObject } from 'node:crypto'
import type { TrustStore } from '../../certs/trust.js'
import { lgspError, type ErrorCode } from '../errors.js'
import type { Member } from '../members.js'
import { JwsFormatError, parseDetached, verifyDetached, type ParsedJws } from './jws.js'
import type { CryptoPool } from './pool.js'

export const SIGNATURE_HEADER = 'x-lgsp-signature'

const REASON_CODES = {
  malformed: 'LGSP_ERR_SIGNATURE_MALFORMED',
  untrusted: 'LGSP_ERR_SIGNATURE_UNTRUSTED',
  expired: 'LGSP_ERR_SIGNATURE_EXPIRED',
  revoked: 'LGSP_ERR_SIGNATURE_REVOKED'
} as const satisfies Record<string, ErrorCode>

interface ChainVerdict {
  key: KeyObject
  commonName: string
  /** Fingerprint of the leaf, for the message log. */
  fingerprint: string
  checkedAt: number
  /** The chain stops being valid here (earliest notAfter). */
  validUntil: number
}

const CACHE_MS = 60_000
const CACHE_MAX = 1024

/** The subject's CN (the last one, as in "C=VN\nO=…\nCN=…"). */
const commonNameOf = (cert: X509Certificate): string => {
  const cn = cert.subject.split('\n').reverse().find((l) => l.startsWith('CN='))
  return cn === undefined ? '' : cn.slice(3)
}

export interface VerifiedSignature {
  /** SHA-256 fingerprint of the signing certificate. */
  certificate: string
  alg: string
}

export class InboundVerifier {
  #trust: TrustStore
  readonly #pool: CryptoPool | undefined
  readonly #chains = new Map<string, ChainVerdict>()

  constructor (trust: TrustStore, pool?: CryptoPool) {
    this.#trust = trust
    this.#pool = pool
  }

  /** Replaces the trust store (CA certificates and CRLs reloaded from disk); cached chain checks are dropped. */
  setTrust (trust: TrustStore): void {
    this.#trust = trust
    this.#chains.clear()
  }

  /**
   * Checks a request's signature. Returns undefined when the request carries none and the
   * member does not require one; throws the LGSP_ERR_SIGNATURE_* error that applies.
   */
  async check (member: Member, header: string | string[] | undefined, body: string, now = Date.now()): Promise<VerifiedSignature | undefined> {
    if (header === undefined || header === '') {
      if (member.signature?.required === true) throw lgspError('LGSP_ERR_SIGNATURE_MISSING')
      return undefined
    }
    if (typeof header !== 'string') throw lgspError('LGSP_ERR_SIGNATURE_MALFORMED', 'Send X-Lgsp-Signature once.')
    let jws: ParsedJws
    try {
      jws = parseDetached(header.trim())
    } catch (err) {
      if (err instanceof JwsFormatError) throw lgspError('LGSP_ERR_SIGNATURE_MALFORMED', `X-Lgsp-Signature: ${err.message}.`)
      throw err
    }
    const verdict = this.#chain(jws, now)
    const alg = jws.header.alg
    const kind = verdict.key.asymmetricKeyType
    if ((alg === 'ES256') !== (kind === 'ec')) throw lgspError('LGSP_ERR_SIGNATURE_MALFORMED', `X-Lgsp-Signature: alg ${alg} does not fit a ${kind ?? 'unknown'} key.`)
    const subjects = member.signature?.subjects ?? [member.id]
    if (!subjects.includes(verdict.commonName)) {
      throw lgspError('LGSP_ERR_SIGNATURE_WRONG_MEMBER', `The certificate is issued to "${verdict.commonName}", not to member ${member.id}.`)
    }
    const ok = this.#pool !== undefined && body.length >= this.#pool.thresholdBytes
      ? await this.#pool.verify(jws, body, verdict.key)
      : verifyDetached(jws, body, verdict.key)
    if (!ok) throw lgspError('LGSP_ERR_SIGNATURE_INVALID')
    return { certificate: verdict.fingerprint, alg: jws.header.alg }
  }

  #chain (jws: ParsedJws, now: number): ChainVerdict {
    const x5c = jws.header.x5c
    if (x5c === undefined || x5c.length === 0) throw lgspError('LGSP_ERR_SIGNATURE_MALFORMED', 'X-Lgsp-Signature: x5c (the certificate chain) is required.')
    // The header text names the chain (and is already a string): no joined copy of x5c per request.
    const cacheKey = jws.headerB64
    const cached = this.#chains.get(cacheKey)
    if (cached !== undefined && now - cached.checkedAt < CACHE_MS && now <= cached.validUntil) return cached
    let chain: X509Certificate[]
    try {
      chain = x5c.map((c) => new X509Certificate(Buffer.from(c, 'base64')))
    } catch {
      throw lgspError('LGSP_ERR_SIGNATURE_MALFORMED', 'X-Lgsp-Signature: an x5c entry is not a DER certificate in base64.')
    }
    const result = this.#trust.validate(chain, now)
    if (!result.ok) throw lgspError(REASON_CODES[result.reason], result.detail)
    const verdict: ChainVerdict = {
      key: result.leaf.publicKey,
      commonName: commonNameOf(result.leaf),
      fingerprint: result.leaf.fingerprint256,
      checkedAt: now,
      validUntil: Math.min(...result.path.map((c) => Date.parse(c.validTo)))
    }
    if (this.#chains.size >= CACHE_MAX) this.#chains.delete(this.#chains.keys().next().value!)
    this.#chains.set(cacheKey, verdict)
    return verdict
  }
}
