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

export class Members {
  readonly #byId: Map<string, Member>

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
}
