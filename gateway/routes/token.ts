/**
 * POST /token: OAuth2 client credentials (RFC 6749 §4.4) with the member id and secret as
 * HTTP Basic credentials, as provincial LGSPs do. Returns a short-lived bearer token.
 * Provincial LGSP clients send the `lgspaccesstoken` header instead of Basic credentials
 * (form body `grant_type=client_credentials`, reply read for `access_token`): same reply.
 */
import type { FastifyInstance } from 'fastify'
import type { TokenSigner } from '../crypto/token.js'
import { lgspError } from '../errors.js'
import type { Member, Members } from '../members.js'
import { LGSP_ACCESS_TOKEN_HEADER, lgspAccessTokenMember } from '../plugins/auth.js'
import { routeDocs } from '../plugins/openapi.js'

function basicCredentials (header: string | undefined): { id: string, secret: string } {
  const m = header === undefined ? null : /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header)
  if (m === null) throw lgspError('LGSP_ERR_AUTH_INVALID_CLIENT')
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 1) throw lgspError('LGSP_ERR_AUTH_INVALID_CLIENT')
  // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) }
  } catch {
    throw lgspError('LGSP_ERR_AUTH_INVALID_CLIENT')
  }
}

export function tokenRoutes (app: FastifyInstance, signer: TokenSigner, members: Members): void {
  app.post('/token', { schema: routeDocs.token }, async (req, reply) => {
    reply.header('cache-control', 'no-store')
    const body = (req.body ?? {}) as { grant_type?: unknown }
    const lgsp = req.headers[LGSP_ACCESS_TOKEN_HEADER]
    const basic = req.headers.authorization
    // Exchange of the provincial header; its clients send grant_type, but nothing else can be meant without it.
    const exchange = (basic === undefined || basic === '') && lgsp !== undefined && lgsp !== ''
    if (body.grant_type !== 'client_credentials' && !(exchange && body.grant_type === undefined)) {
      throw lgspError('LGSP_ERR_AUTH_UNSUPPORTED_GRANT', 'Send grant_type=client_credentials (form or JSON body).', { error: 'unsupported_grant_type' })
    }
    let member: Member
    if (exchange) {
      member = await lgspAccessTokenMember(members, lgsp, signer.ttlSeconds, req.ip)
      req.log.info({ member: member.id, via: LGSP_ACCESS_TOKEN_HEADER }, 'token issued')
      return { access_token: signer.issue(member.id), token_type: 'Bearer', expires_in: signer.ttlSeconds }
    }
    try {
      const { id, secret } = basicCredentials(req.headers.authorization)
      member = await members.authenticate(id, secret, req.ip)
    } catch (err) {
      reply.header('www-authenticate', 'Basic realm="lgsp"')
      throw err
    }
    req.log.info({ member: member.id }, 'token issued')
    return { access_token: signer.issue(member.id), token_type: 'Bearer', expires_in: signer.ttlSeconds }
  })
}
