/**
 * Bearer authentication: every /v1 route needs a token from POST /token. The token names
 * the member; the member's current rights come from the config. Provincial LGSP clients
 * may instead send the `lgspaccesstoken` header on every call (see below).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { TokenSigner } from '../crypto/token.js'
import { LgspError, lgspError } from '../errors.js'
import type { Member, Members } from '../members.js'
import { SIGNATURE_HEADER, type InboundVerifier } from '../crypto/inbound.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated member (routes behind `authenticate`). */
    member?: Member
    /** The member's verified signature over the body (X-Lgsp-Signature). */
    signature?: string
  }
}

export type Authenticate = (req: FastifyRequest, reply: FastifyReply) => Promise<void>

/**
 * The provincial LGSP convention: `lgspaccesstoken: base64(JSON {AccessKey, SecretKey,
 * AppName, PartnerCode})`, sent to the token endpoint (with `grant_type=client_credentials`)
 * and, by many clients, again on every call beside or instead of the bearer token.
 */
export const LGSP_ACCESS_TOKEN_HEADER = 'lgspaccesstoken'

/** The decoded `lgspaccesstoken`: AccessKey is the member id, SecretKey its secret. */
export interface LgspAccessToken {
  AccessKey: string
  SecretKey: string
  /** Informational (clients send the application's and partner's names); not checked. */
  AppName?: string
  PartnerCode?: string
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/
const MAX_HEADER = 4096

/** Decodes a `lgspaccesstoken` header; throws LGSP_ERR_AUTH_LGSP_TOKEN_MALFORMED. */
export function parseLgspAccessToken (header: string | string[] | undefined): LgspAccessToken {
  const malformed = (why: string): LgspError => lgspError('LGSP_ERR_AUTH_LGSP_TOKEN_MALFORMED', `lgspaccesstoken: ${why}.`)
  if (typeof header !== 'string') throw malformed(header === undefined ? 'missing' : 'send the header once')
  const text = header.trim()
  if (text === '' || text.length > MAX_HEADER || !BASE64.test(text)) throw malformed('not base64')
  let value: unknown
  try {
    // Buffer's base64 decoder takes both the standard and the URL-safe alphabet.
    value = JSON.parse(Buffer.from(text, 'base64').toString('utf8'))
  } catch {
    throw malformed('the decoded value is not JSON')
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw malformed('the decoded value is not a JSON object')
  const v = value as Record<string, unknown>
  if (typeof v.AccessKey !== 'string' || v.AccessKey === '' || typeof v.SecretKey !== 'string' || v.SecretKey === '') {
    throw malformed('AccessKey (the member id) and SecretKey (its secret) must be non-empty strings')
  }
  const out: LgspAccessToken = { AccessKey: v.AccessKey, SecretKey: v.SecretKey }
  if (typeof v.AppName === 'string') out.AppName = v.AppName
  if (typeof v.PartnerCode === 'string') out.PartnerCode = v.PartnerCode
  return out
}

/**
 * The member a `lgspaccesstoken` header names, its secret checked. The check is remembered
 * for `ttlSeconds` (the bearer token lifetime): the header repeats the secret on every
 * call, and a scrypt-hashed secret would otherwise cost one scrypt per request.
 */
export async function lgspAccessTokenMember (members: Members, header: string | string[] | undefined, ttlSeconds: number, address?: string): Promise<Member> {
  const token = parseLgspAccessToken(header)
  return await members.authenticateRemembered(token.AccessKey, token.SecretKey, ttlSeconds * 1000, Date.now(), address)
}

/** A member that exists and is enabled: rights are read from the config on every request. */
export function activeMember (members: Members, id: string): Member {
  const member = members.get(id)
  if (member === undefined) throw lgspError('LGSP_ERR_AUTH_INVALID_TOKEN', 'The member of this token no longer exists.')
  if (!member.enabled) throw lgspError('LGSP_ERR_AUTH_MEMBER_DISABLED')
  return member
}

/**
 * The member id of a token signed by any of `signers` (the bearer signer, the facade's
 * session signer). An expired token says so rather than "invalid".
 */
export function tokenSubject (signers: readonly TokenSigner[], token: string): string {
  let failure: LgspError | undefined
  for (const signer of signers) {
    try {
      return signer.verify(token).sub
    } catch (err) {
      if (!(err instanceof LgspError)) throw err
      if (failure === undefined || err.code === 'LGSP_ERR_AUTH_EXPIRED_TOKEN') failure = err
    }
  }
  throw failure ?? lgspError('LGSP_ERR_AUTH_INVALID_TOKEN')
}

/** The token of an `Authorization: Bearer` header; throws when the header has another form. */
export function bearerToken (header: string): string {
  const m = /^Bearer ([A-Za-z0-9_.-]+)$/i.exec(header.trim())
  if (m === null) throw lgspError('LGSP_ERR_AUTH_INVALID_TOKEN', 'Send Authorization: Bearer <token>.')
  return m[1]!
}

/**
 * The member of a request's credentials: `Authorization: Bearer` when present (clients that
 * send both it and `lgspaccesstoken` are judged by the token they were issued), otherwise
 * the `lgspaccesstoken` header.
 */
export async function requestMember (req: FastifyRequest, signers: readonly TokenSigner[], members: Members, ttlSeconds: number): Promise<Member> {
  const header = req.headers.authorization
  if (header !== undefined && header !== '') return activeMember(members, tokenSubject(signers, bearerToken(header)))
  const lgsp = req.headers[LGSP_ACCESS_TOKEN_HEADER]
  if (lgsp !== undefined && lgsp !== '') return await lgspAccessTokenMember(members, lgsp, ttlSeconds, req.ip)
  throw lgspError('LGSP_ERR_AUTH_MISSING_TOKEN')
}

/**
 * With a verifier, a POST's body signature is checked too: required for members with
 * `signature.required`, and checked whenever one is sent.
 */
export function bearerAuth (signer: TokenSigner, members: Members, verifier?: InboundVerifier): Authenticate {
  return async (req) => {
    const member = await requestMember(req, [signer], members, signer.ttlSeconds)
    req.member = member
    if (verifier !== undefined && req.method === 'POST') {
      const header = req.headers[SIGNATURE_HEADER]
      if (await verifier.check(member, header, req.rawBody ?? '') !== undefined) req.signature = header as string
    }
  }
}

/** The member of an authenticated request. */
export function memberOf (req: FastifyRequest): Member {
  if (req.member === undefined) throw lgspError('LGSP_ERR_AUTH_MISSING_TOKEN')
  return req.member
}

export function requireAdmin (member: Member): void {
  if (!member.admin) throw lgspError('LGSP_ERR_AUTH_ADMIN_REQUIRED')
}
