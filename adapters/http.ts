/**
 * Transport shared by the HTTP adapters: one undici Pool per destination with connect,
 * headers and body timeouts, and the mapping of transport failures to delivery codes.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { createHash, randomBytes } from 'node:crypto'
import { Pool, errors as undiciErrors } from 'undici'
import type { DeliveryErrorCode } from '../gateway/errors.js'
import type { Timeouts } from '../schemas/types.js'
import type { DeliveryResult, SignContext } from './types.js'

/** Every default of the adapters' transport in one place. */
export const transportDefaults: Timeouts & { connections: number } = {
  connectMs: 3000,
  headersMs: 10000,
  bodyMs: 10000,
  connections: 16
}

/** The trace context of the delivery attempt running (set by the delivery worker around `deliver`). */
export interface OutboundTrace {
  /** W3C `traceparent` (version 00) sent with every request of the attempt. */
  traceparent: string
  /** Sent as `x-request-id`: the message id, so the destination's logs name the gateway's message. */
  requestId: string
}

/** Outbound HTTP of a delivery carries the attempt's trace headers without every adapter passing them on. */
export const outboundTrace = new AsyncLocalStorage<OutboundTrace>()

/** W3C traceparent, version 00 (https://www.w3.org/TR/trace-context/#traceparent-header); all-zero ids are invalid. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/

/** The trace id of a valid incoming traceparent header, else undefined. */
export function traceIdOf (header: string | string[] | undefined): string | undefined {
  const m = typeof header === 'string' ? TRACEPARENT.exec(header.trim()) : null
  if (m === null || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined
  return m[1]
}

/**
 * A W3C traceparent (https://www.w3.org/TR/trace-context/#traceparent-header) for a delivery
 * attempt of a message: the trace id of the request that brought the message when it carried
 * one (`traceId`), else the message id's 128 bits (a UUIDv7 is exactly a trace id; other ids
 * are hashed); the span id new for each attempt, sampled.
 */
export function traceparentFor (messageId: string, traceId?: string): string {
  if (traceId !== undefined && /^[0-9a-f]{32}$/.test(traceId) && !/^0+$/.test(traceId)) return `00-${traceId}-${randomBytes(8).toString('hex')}-01`
  const hex = messageId.replace(/-/g, '').toLowerCase()
  const id = /^[0-9a-f]{32}$/.test(hex) && !/^0+$/.test(hex) ? hex : createHash('sha256').update(messageId).digest('hex').slice(0, 32)
  return `00-${id}-${randomBytes(8).toString('hex')}-01`
}

/** The path part of a destination URL without its trailing slash: what request paths are appended to. */
export const basePath = (url: string): string => new URL(url).pathname.replace(/\/$/, '')

export function createPool (url: string, timeouts: Partial<Timeouts>, connections?: number): Pool {
  const t = { ...transportDefaults, ...timeouts }
  return new Pool(new URL(url).origin, {
    connections: connections ?? transportDefaults.connections,
    connectTimeout: t.connectMs,
    headersTimeout: t.headersMs,
    bodyTimeout: t.bodyMs,
    keepAliveTimeout: 10_000
  })
}

type Failure = Extract<DeliveryResult, { ok: false }>

const fail = (code: DeliveryErrorCode, message: string, uncertain: boolean, retryAfterMs?: number): Failure =>
  retryAfterMs === undefined ? { ok: false, code, message, uncertain } : { ok: false, code, message, uncertain, retryAfterMs }

/**
 * Maps a transport error. A failure before the request left (refused, connect timeout) is
 * certain not to have been applied; one after (headers/body timeout, reset) is uncertain.
 */
export function transportFailure (err: unknown): Failure {
  const e = err as { code?: string, message?: string }
  if (err instanceof undiciErrors.ConnectTimeoutError) return fail('LGSP_ERR_UPSTREAM_TIMEOUT', 'connect timeout', false)
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return fail('LGSP_ERR_UPSTREAM_TIMEOUT', e.code ?? 'timeout', true)
  }
  const notSent = ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']
  if (e.code !== undefined && notSent.includes(e.code)) return fail('LGSP_ERR_UPSTREAM_NETWORK', e.code, false)
  return fail('LGSP_ERR_UPSTREAM_NETWORK', e.code ?? 'network error', true)
}

/** Maps a non-2xx HTTP status: 429 and 5xx are retried, other 4xx are permanent. */
export function statusFailure (status: number, retryAfter?: string | string[]): Failure {
  const after = typeof retryAfter === 'string' && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined
  if (status === 429) return fail('LGSP_ERR_UPSTREAM_RATE_LIMITED', `HTTP ${status}`, false, after)
  if (status >= 500) return fail('LGSP_ERR_UPSTREAM_UNAVAILABLE', `HTTP ${status}`, status === 502 || status === 504, after)
  return fail('LGSP_ERR_UPSTREAM_REJECTED', `HTTP ${status}`, false)
}

export interface JsonReply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: unknown
}

/**
 * POSTs JSON and reads a JSON reply; throws the transport error as is. With a signing
 * context the exact bytes sent are signed (X-Lgsp-Signature) and logged first.
 */
export async function postJson (pool: Pool, path: string, body: unknown, headers: Record<string, string> = {}, sign?: SignContext): Promise<JsonReply> {
  const text = JSON.stringify(body)
  const signed = sign === undefined ? {} : await sign.signer.sign(text, sign)
  const trace = outboundTrace.getStore()
  const traced = trace === undefined ? {} : { traceparent: trace.traceparent, 'x-request-id': trace.requestId }
  const res = await pool.request({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', accept: 'application/json', ...traced, ...headers, ...signed },
    body: text
  })
  const reply = await res.body.text()
  let parsed: unknown
  try {
    parsed = reply.length === 0 ? undefined : JSON.parse(reply)
  } catch {
    parsed = undefined
  }
  return { status: res.statusCode, headers: res.headers, body: parsed }
}
