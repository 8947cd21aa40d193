/**
 * Connected systems (members) and their credentials. A member's rights are read from the
 * config on every request, so disabling a member takes effect at once, even for tokens
 * already issued.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual, createHash } from 'node:crypto'
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

/** scrypt on libuv's thread pool: the event loop never waits for it (~70 ms a call). */
const scryptAsync = async (secret: string, salt: Buffer, length: number): Promise<Buffer> =>
  await new Promise((resolve, reject) => scrypt(secret, salt, length, SCRYPT, (err, key) => { if (err === null) resolve(key); else reject(err) }))

/** Checked against for unknown members and plain secrets, so every refusal costs one scrypt. */
const DUMMY = { salt: randomBytes(16), hash: randomBytes(32) }

/**
 * Every check costs exactly one scrypt, whatever the member: an unknown id, a plain secret
 * and a hashed one take the same time to refuse (member ids cannot be found by timing).
 */
async function secretMatches (member: Member | undefined, given: string): Promise<boolean> {
  const stored = member?.clientSecretHash?.split('$') as [string, string, string] | undefined
  const salt = stored === undefined ? DUMMY.salt : Buffer.from(stored[1], 'base64url')
  const expected = stored === undefined ? DUMMY.hash : Buffer.from(stored[2], 'base64url')
  const actual = await scryptAsync(given, salt, expected.length)
  const hashedOk = timingSafeEqual(actual, expected)
  if (member === undefined) return false
  if (stored !== undefined) return hashedOk
  // Compare digests so the comparison takes the same time whatever the lengths.
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(member.clientSecret ?? randomBytes(32)).digest()
  return timingSafeEqual(a, b)
}

/** Failed credential checks: how many per address and per member id, and for how long they count. */
export interface AttemptLimits {
  /** Failures from one address within windowMs before it is refused (429). */
  perAddress: number
  /** Failures for one member id, from anywhere, before addresses that have failed too are refused for it. */
  perClient: number
  windowMs: number
}

export const defaultAttemptLimits: AttemptLimits = { perAddress: 10, perClient: 50, windowMs: 60_000 }

/** A counter's state: its count in the current window and the ms left of that window (0, 0 when none). */
export interface AttemptCount { n: number, leftMs: number }

/**
 * Where failed-attempt counters live. In memory on SQLite (one instance); in Redis when the
 * store is Redis (store/redis: INCR and PEXPIRE in one script, keys under the store's prefix),
 * so that failures at one instance count at every other one behind the same load balancer.
 */
export interface AttemptCounter {
  /** Each key's count in its current window. */
  peek: (keys: readonly string[], now: number) => Promise<AttemptCount[]>
  /** Adds one to each key; a key without a current window starts one of `windowMs`. */
  add: (keys: readonly string[], windowMs: number, now: number) => Promise<void>
}

/** Counters are dropped all at once past this many keys (a flood of addresses cannot grow memory). */
const ATTEMPTS_SIZE = 100_000

/** This process's counters, in fixed windows. */
export class MemoryAttemptCounter implements AttemptCounter {
  readonly #counts = new Map<string, { n: number, until: number }>()

  async peek (keys: readonly string[], now: number): Promise<AttemptCount[]> {
    return keys.map((key) => {
      const c = this.#counts.get(key)
      return c === undefined || c.until <= now ? { n: 0, leftMs: 0 } : { n: c.n, leftMs: c.until - now }
    })
  }

  async add (keys: readonly string[], windowMs: number, now: number): Promise<void> {
    if (this.#counts.size >= ATTEMPTS_SIZE) this.#counts.clear()
    for (const key of keys) {
      const c = this.#counts.get(key)
      if (c === undefined || c.until <= now) this.#counts.set(key, { n: 1, until: now + windowMs })
      else c.n++
    }
  }
}

/**
 * A member id or an address as part of a counter key: both arrive from outside before anyone
 * is authenticated (an address from X-Forwarded-For when the proxy is trusted), so a long one
 * is replaced by its digest (a key never holds more than ~64 characters of it).
 */
const keyPart = (text: string): string => text.length <= 64 ? text : `#${createHash('sha256').update(text).digest('base64url')}`

/**
 * Failed attempts, counted per address and per member id in fixed windows. An address is
 * locked out first: a member id under attack refuses only addresses that have failed
 * themselves, so an attacker elsewhere cannot lock a real member out of its own address.
 * The counters are shared by the instances when a shared counter is given (Redis); if it
 * does not answer, this process's own counters stand in, so an outage of the shared store
 * neither refuses every login nor lifts the limit.
 */
export class AttemptLimiter {
  readonly #limits: AttemptLimits
  readonly #shared: AttemptCounter | undefined
  readonly #local = new MemoryAttemptCounter()

  constructor (limits: AttemptLimits = defaultAttemptLimits, shared?: AttemptCounter) {
    this.#limits = limits
    this.#shared = shared
  }

  /** Seconds until `address` may try again for `id`, or 0 when it may now. */
  async blockedFor (address: string, id: string, now = Date.now()): Promise<number> {
    const keys = [`a:${keyPart(address)}`, `c:${keyPart(id)}`]
    let counts: AttemptCount[]
    try {
      counts = await (this.#shared ?? this.#local).peek(keys, now)
    } catch {
      counts = await this.#local.peek(keys, now)
    }
    const [byAddress, byClient] = counts as [AttemptCount, AttemptCount]
    // The address alone, or an address that failed itself for an id failing everywhere.
    const leftMs = byAddress.n >= this.#limits.perAddress
      ? byAddress.leftMs
      : byAddress.n > 0 && byClient.n >= this.#limits.perClient ? Math.min(byAddress.leftMs, byClient.leftMs) : 0
    return leftMs === 0 ? 0 : Math.max(1, Math.ceil(leftMs / 1000))
  }

  /** Records one failure of `address` for `id`. */
  async failed (address: string, id: string, now = Date.now()): Promise<void> {
    const keys = [`a:${keyPart(address)}`, `c:${keyPart(id)}`]
    try {
      await (this.#shared ?? this.#local).add(keys, this.#limits.windowMs, now)
    } catch {
      await this.#local.add(keys, this.#limits.windowMs, now)
    }
  }
}

/** Remembered credential checks are dropped all at once past this many (a flood of distinct secrets cannot grow memory). */
const REMEMBERED_SIZE = 10_000

export class Members {
  readonly #byId: Map<string, Member>
  /** SHA-256 of `id NUL secret` → the member id and until when the check holds (ms). */
  readonly #remembered = new Map<string, { id: string, until: number }>()

  readonly #attempts: AttemptLimiter

  /** `shared`: the store's failed-attempt counters when the store is shared by instances (Redis). */
  constructor (members: readonly Member[], limits: AttemptLimits = defaultAttemptLimits, shared?: AttemptCounter) {
    this.#byId = new Map(members.map((m) => [m.id, m]))
    this.#attempts = new AttemptLimiter(limits, shared)
  }

  get (id: string): Member | undefined {
    return this.#byId.get(id)
  }

  /**
   * Checks client credentials (POST /token, the facade login, lgspaccesstoken, SecurityKey).
   * `address` is the caller's IP: failures are counted per address and per id, and past the
   * limits the check is refused (429) before any scrypt is spent.
   */
  async authenticate (id: string, secret: string, address = 'unknown'): Promise<Member> {
    const wait = await this.#attempts.blockedFor(address, id)
    if (wait > 0) throw lgspError('LGSP_ERR_AUTH_TOO_MANY_ATTEMPTS', `Too many failed attempts: try again in ${wait} s.`, { retryAfter: wait })
    const m = this.#byId.get(id)
    // Unknown member and wrong secret answer alike, in the same time.
    if (!await secretMatches(m, secret) || m === undefined) {
      await this.#attempts.failed(address, id)
      throw lgspError('LGSP_ERR_AUTH_INVALID_CLIENT')
    }
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
  async authenticateRemembered (id: string, secret: string, ttlMs: number, now = Date.now(), address = 'unknown'): Promise<Member> {
    const key = createHash('sha256').update(id).update('\0').update(secret).digest('base64url')
    const known = this.#remembered.get(key)
    if (known !== undefined && known.until > now) {
      const m = this.#byId.get(known.id)
      if (m !== undefined) {
        if (!m.enabled) throw lgspError('LGSP_ERR_AUTH_MEMBER_DISABLED')
        return m
      }
    }
    const m = await this.authenticate(id, secret, address)
    if (this.#remembered.size >= REMEMBERED_SIZE) this.#remembered.clear()
    this.#remembered.set(key, { id: m.id, until: now + ttlMs })
    return m
  }
}
