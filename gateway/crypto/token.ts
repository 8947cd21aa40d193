/**
 * Short-lived bearer tokens signed by the gateway: compact JWS (RFC 7515) with HS256 over
 * `{iss, aud, sub, iat, exp, jti}`. Only this exact header is accepted, so no `alg`
 * confusion is possible; signatures are compared in constant time.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import { lgspError } from '../errors.js'

export interface TokenClaims {
  iss: string
  aud: string
  /** The member id. */
  sub: string
  iat: number
  exp: number
  jti: string
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')
const AUDIENCE = 'lgsp'

/** Verified tokens kept so each is checked by HMAC once; its expiry is still checked on every use. */
const VERIFIED_CACHE_SIZE = 10_000

export class TokenSigner {
  readonly #key: Buffer
  readonly #issuer: string
  readonly #ttl: number
  readonly #verified = new Map<string, TokenClaims>()

  constructor (secret: string, issuer: string, ttlSeconds: number) {
    this.#key = Buffer.from(secret, 'utf8')
    this.#issuer = issuer
    this.#ttl = ttlSeconds
  }

  get ttlSeconds (): number { return this.#ttl }

  #mac (input: string): Buffer {
    return createHmac('sha256', this.#key).update(input).digest()
  }

  issue (memberId: string, now = Date.now()): string {
    const iat = Math.floor(now / 1000)
    const claims: TokenClaims = { iss: this.#issuer, aud: AUDIENCE, sub: memberId, iat, exp: iat + this.#ttl, jti: randomUUID() }
    const input = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
    return `${input}.${this.#mac(input).toString('base64url')}`
  }

  /** Returns the claims of a valid token; throws LGSP_ERR_AUTH_INVALID_TOKEN or _EXPIRED_TOKEN. */
  verify (token: string, now = Date.now()): TokenClaims {
    const known = this.#verified.get(token)
    if (known !== undefined) {
      if (known.exp * 1000 <= now) throw lgspError('LGSP_ERR_AUTH_EXPIRED_TOKEN')
      return known
    }
    const claims = this.#check(token, now)
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.clear()
    this.#verified.set(token, claims)
    return claims
  }

  #check (token: string, now: number): TokenClaims {
    const parts = token.split('.')
    if (parts.length !== 3 || parts[0] !== HEADER) throw lgspError('LGSP_ERR_AUTH_INVALID_TOKEN')
    const given = Buffer.from(parts[2]!, 'base64url')
    const expected = this.#mac(`${parts[0]}.${parts[1]}`)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw lgspError('LGSP_ERR_AUTH_INVALID_TOKEN')
    let claims: TokenClaims
    try {
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims
    } catch {
      throw lgspError('LGSP_ERR_AUTH_INVALID_TOKEN')
    }
    if (claims.iss !== this.#issuer || claims.aud !== AUDIENCE || typeof claims.sub !== 'string') throw lgspError('LGSP_ERR_AUTH_INVALID_TOKEN')
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now) throw lgspError('LGSP_ERR_AUTH_EXPIRED_TOKEN')
    return claims
  }
}
