/**
 * Connected systems (members) and their credentials. A member's rights are read from the
 * config on every request, so disabling a member takes effect at once, even for tokens
 * already issued.
 */
import { randomBytes, scryptSync, timingSafeEqual, createHash } from 'node:crypto'
import type { Member } from '../schemas/types.js'
import { lgspError } from './errors.js'

export type { Member } from '../schemas/types.js'

const SCRYPT = { N: 16384, r: 8, p: 1 } as const

/** `scrypt$<salt>$<hash>` (base64url) for a member's config (`lgsp members hash-secret`). */
export function hashSecret (secret: string): string {
  const salt = randomBytes(16)
  const hash = scryptSync(secret, salt, 32, SCRYPT)
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`
}

function secretMatches (member: Member, given: string): boolean {
  if (member.clientSecretHash !== undefined) {
    const [, salt, hash] = member.clientSecretHash.split('$') as [string, string, string]
    const expected = Buffer.from(hash, 'base64url')
    const actual = scryptSync(given, Buffer.from(salt, 'base64url'), expected.length, SCRYPT)
    return timingSafeEqual(actual, expected)
  }
  // Compare digests so the comparison takes the same time whatever the lengths.
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(member.clientSecret ?? randomBytes(32)).digest()
  return timingSafeEqual(a, b)
}

/** Remembered credential checks are dropped all at once past this many (a flood of distinct secrets cannot grow memory). */
const REMEMBERED_SIZE = 10_000

export class Members {
  readonly #byId: Map<string, Member>
  /** SHA-256 of `id NUL secret` → the member id and until when the check holds (ms). */
  readonly #remembered = new Map<string, { id: string, until: number }>()

  constructor (members: readonly Member[]) {
    this.#byId = new Map(members.map((m) => [m.id, m]))
  }

  get (id: string): Member | undefined {
    return this.#byId.get(id)
  }

  /** Checks client credentials (POST /token). */
  authenticate (id: string, secret: string): Member {
    const m = this.#byId.get(id)
    // Unknown member and wrong secret answer alike.
    if (m === undefined || !secretMatches(m, secret)) throw lgspError('LGSP_ERR_AUTH_INVALID_CLIENT')
    if (!m.enabled) throw lgspError('LGSP_ERR_AUTH_MEMBER_DISABLED')
    return m
  }

  /**
   * Like `authenticate`, for credentials that arrive on every request (the provincial
   * `lgspaccesstoken` header carries the secret each time): a successful check is
   * remembered for `ttlMs`, keyed by a digest of the credentials, so a scrypt-hashed secret
   * costs one scrypt per token lifetime, not one per request. Failures are never
   * remembered, and the member's `enabled` flag is read on every call.
   */
  authenticateRemembered (id: string, secret: string, ttlMs: number, now = Date.now()): Member {
    const key = createHash('sha256').update(id).update('\0').update(secret).digest('base64url')
    const known = this.#remembered.get(key)
    if (known !== undefined && known.until > now) {
      const m = this.#byId.get(known.id)
      if (m !== undefined) {
        if (!m.enabled) throw lgspError('LGSP_ERR_AUTH_MEMBER_DISABLED')
        return m
      }
    }
    const m = this.authenticate(id, secret)
    if (this.#remembered.size >= REMEMBERED_SIZE) this.#remembered.clear()
    this.#remembered.set(key, { id: m.id, until: now + ttlMs })
    return m
  }
}
