/**
 * Payments: requests from one-stop members, PayGov's callbacks, and the settlement report.
 */
import type { FastifyInstance } from 'fastify'
import { lgspError } from '../errors.js'
import type { Payments } from '../payments.js'
import { memberOf, type Authenticate } from '../plugins/auth.js'
import { routeDocs } from '../plugins/openapi.js'

export function paymentRoutes (app: FastifyInstance, auth: Authenticate, payments: Payments): void {
  app.post('/v1/payments', { preHandler: auth, schema: routeDocs.postPayment }, async (req, reply) => {
    if (req.rawBody === undefined) throw lgspError('LGSP_ERR_REQUEST_MEDIA_TYPE')
    const key = req.headers['idempotency-key']
    if (Array.isArray(key)) throw lgspError('LGSP_ERR_IDEMPOTENCY_KEY_INVALID')
    const result = await payments.request(memberOf(req), req.body, req.rawBody, key, req.ip, req.signature)
    reply.code(result.replayed ? 200 : 201).header('location', `/v1/payments/${result.reply.MaThamChieu}`)
    if (result.replayed) reply.header('idempotent-replayed', 'true')
    return result.reply
  })

  app.get('/v1/payments/settlement', { preHandler: auth, schema: routeDocs.settlement }, async (req) => {
    const member = memberOf(req)
    if (!member.admin && member.read !== 'all') throw lgspError('LGSP_ERR_AUTH_READ_FORBIDDEN')
    const { date } = req.query as { date?: string }
    return payments.report(date ?? '')
  })

  app.get('/v1/payments/:reference', { preHandler: auth, schema: routeDocs.getPayment }, async (req) => {
    const member = memberOf(req)
    const p = await payments.get((req.params as { reference: string }).reference)
    if (p === undefined) throw lgspError('LGSP_ERR_PAYMENT_NOT_FOUND')
    if (p.sender !== member.id && !member.admin && member.read !== 'all') throw lgspError('LGSP_ERR_AUTH_READ_FORBIDDEN')
    return p
  })

  // PayGov authenticates by checksum (and optionally by source address), not by bearer token.
  app.post('/v1/callbacks/paygov', { schema: routeDocs.paygovCallback }, async (req, reply) => {
    const result = await payments.callback(req.body, req.ip, req.rawBody)
    return reply.code(result.status).send(result.body)
  })
}
