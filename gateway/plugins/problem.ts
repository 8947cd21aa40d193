/**
 * Errors on the wire: every failure becomes `application/problem+json` (RFC 9457) with a
 * stable code from errors.ts. Clients get a fixed title and a hint; stacks and upstream
 * bodies go to the log only. Also the JSON body parser, which keeps the raw body for the
 * message log and content hashing.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { LgspError, lgspError, toProblem, type ErrorCode } from '../errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received (JSON requests). */
    rawBody?: string
  }
}

/** Fastify's own error codes that are client mistakes. */
const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'LGSP_ERR_REQUEST_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'LGSP_ERR_REQUEST_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'LGSP_ERR_REQUEST_MALFORMED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'LGSP_ERR_REQUEST_MALFORMED',
  FST_ERR_CTP_INVALID_TYPE: 'LGSP_ERR_REQUEST_MEDIA_TYPE',
  FST_ERR_VALIDATION: 'LGSP_ERR_REQUEST_BAD_PARAMETER',
  FST_ERR_BAD_URL: 'LGSP_ERR_REQUEST_NOT_FOUND',
  FST_ERR_MAX_PARAM_LENGTH: 'LGSP_ERR_REQUEST_URI_TOO_LONG'
}

/**
 * The most JSON values (commas and brackets outside strings) a body may hold. JSON.parse is
 * linear but runs on the event loop: a 1 MB body of half a million numbers takes ~60 ms to
 * parse here, every other request waiting. A batch of 100 HoSo records with their documents
 * and fees holds some 15,000; the count is a linear scan, far cheaper than the parse.
 */
export const MAX_JSON_VALUES = 50_000

/** Counts the separators of a JSON text outside strings, stopping past `max`. */
export function jsonValuesOver (text: string, max: number): boolean {
  let count = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 44 || c === 91 || c === 123) {
      if (++count > max) return true
    }
  }
  return false
}

export function sendProblem (reply: FastifyReply, err: LgspError): FastifyReply {
  const retryAfter = err.extra?.retryAfter
  if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter))
  return reply
    .code(err.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send(toProblem(err, String(reply.request.id)))
}

function toLgspError (err: FastifyError | LgspError): LgspError {
  if (err instanceof LgspError) return err
  const mapped = err.code === undefined ? undefined : fastifyCodes[err.code]
  if (mapped !== undefined) return lgspError(mapped)
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) return lgspError('LGSP_ERR_REQUEST_MALFORMED')
  return lgspError('LGSP_ERR_SERVER_INTERNAL')
}

/**
 * Fastify's router answers a bad URL (400) and an over-long path parameter (414) before any
 * hook or error handler runs: the `frameworkErrors` option (app.ts) sends them as problems too.
 */
export function frameworkErrors (err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  req.log.info({ code: err.code }, 'request refused')
  void sendProblem(reply, toLgspError(err))
}

export function problemPlugin (app: FastifyInstance, bodyLimit: number): void {
  app.removeContentTypeParser(['application/json'])
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (req: FastifyRequest, body: string | Buffer, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    req.rawBody = text
    if (jsonValuesOver(text, MAX_JSON_VALUES)) {
      done(lgspError('LGSP_ERR_REQUEST_TOO_LARGE', `The body holds more than ${MAX_JSON_VALUES} JSON values; split it into smaller requests.`), undefined)
      return
    }
    try {
      done(null, JSON.parse(text))
    } catch {
      done(lgspError('LGSP_ERR_REQUEST_MALFORMED', 'The body is not valid JSON.'), undefined)
    }
  })

  app.setErrorHandler((err: FastifyError | LgspError, req, reply) => {
    const e = toLgspError(err)
    if (e.status >= 500) req.log.error({ err, code: e.code }, 'request failed')
    else req.log.info({ code: e.code }, 'request refused')
    return sendProblem(reply, e)
  })

  app.setNotFoundHandler((req, reply) => sendProblem(reply, lgspError('LGSP_ERR_REQUEST_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}.`)))
}
