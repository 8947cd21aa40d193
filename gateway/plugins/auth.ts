/**
 * Bearer authentication: every /v1 route needs a token from POST /token. The token names
 * the member; the member's current rights come from the config.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { TokenSigner } from '../crypto/token.js'
import { lgspError } from '../errors.js'
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
 * With a verifier, a POST's body signature is checked too: required for members with
 * `signature.required`, and checked whenever one is sent.
 */
export function bearerAuth (signer: TokenSigner, members: Members, verifier?: InboundVerifier): Authenticate {
  return async (req) => {
    const header = req.headers.authorization
    if (header === undefined || header === '') throw lgspError('LGSP_ERR_AUTH_MISSING_TOKEN')
    const m = /^Bearer ([A-Za-z0-9_.-]+)$/i.exec(header)
    if (m === null) throw lgspError('LGSP_ERR_AUTH_INVALID_TOKEN', 'Send Authorization: Bearer <token>.')
    const claims = signer.verify(m[1]!)
    const member = members.get(claims.sub)
    if (member === undefined) throw lgspError('LGSP_ERR_AUTH_INVALID_TOKEN', 'The member of this token no longer exists.')
    if (!member.enabled) throw lgspError('LGSP_ERR_AUTH_MEMBER_DISABLED')
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
