/**
 * Tax transport: the `soap` package over the WSDL in schemas/tax/, every request signed
 * with WS-Security (X.509 token, RSA-SHA256, exc-c14n over Body and Timestamp, by
 * xml-crypto). SOAP faults, HTTP statuses and transport errors map to delivery codes.
 */
import { join } from 'node:path'
import soap from 'soap'
import { scrub } from '../../gateway/logger.js'
import { schemaDir } from '../../gateway/paths.js'
import { statusFailure } from '../http.js'
import type { DeliveryResult } from '../types.js'

type Failure = Extract<DeliveryResult, { ok: false }>

export const WSDL_PATH = join(schemaDir, 'tax', 'thue.wsdl')
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'

export interface TaxClientSettings {
  url: string
  keyPem: string
  certPem: string
  /** Whole-call timeout, ms. */
  timeoutMs: number
}

/** Maps what the soap package throws. */
export function soapFailure (err: unknown): Failure {
  const e = err as { root?: { Envelope?: { Body?: { Fault?: { faultcode?: string, faultstring?: string } } } }, response?: { status?: number, headers?: Record<string, string> }, code?: string, message?: string }
  const fault = e.root?.Envelope?.Body?.Fault
  if (fault !== undefined) {
    const text = `SOAP fault ${fault.faultcode ?? ''}: ${scrub(String(fault.faultstring ?? ''))}`
    // A Client fault is about the message: retrying it cannot help.
    if (/client/i.test(String(fault.faultcode))) return { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED', message: text, uncertain: false }
    return { ok: false, code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE', message: text, uncertain: false }
  }
  if (typeof e.response?.status === 'number') {
    // The call failed after a 2xx status line: the reply was lost mid-way, the request was probably processed.
    if (e.response.status < 300) return { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', message: `reply cut after HTTP ${e.response.status}`, uncertain: true }
    return statusFailure(e.response.status, e.response.headers?.['retry-after'])
  }
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND') return { ok: false, code: 'LGSP_ERR_UPSTREAM_NETWORK', message: e.code, uncertain: false }
  if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '')) return { ok: false, code: 'LGSP_ERR_UPSTREAM_TIMEOUT', message: 'timeout', uncertain: true }
  return { ok: false, code: 'LGSP_ERR_UPSTREAM_NETWORK', message: e.code ?? 'network error', uncertain: true }
}

type SoapClient = soap.Client & Record<string, (args: unknown, options?: unknown) => Promise<[Record<string, unknown>, string, unknown, string]>>

export class TaxClient {
  readonly #s: TaxClientSettings
  #client: Promise<SoapClient> | undefined
  /** The last signed request sent (for interop checks). */
  lastRequest = ''

  constructor (settings: TaxClientSettings) {
    this.#s = settings
  }

  #soap (): Promise<SoapClient> {
    this.#client ??= soap.createClientAsync(WSDL_PATH).then((c) => {
      c.setEndpoint(this.#s.url)
      c.setSecurity(new soap.WSSecurityCert(this.#s.keyPem, this.#s.certPem, '', { hasTimeStamp: true, signatureAlgorithm: RSA_SHA256 }))
      return c as SoapClient
    })
    return this.#client
  }

  async call (operation: 'NopHoSo' | 'TraCuuHoSo' | 'LayThongBaoThue', args: Record<string, unknown>): Promise<{ ok: true, result: Record<string, unknown> } | Failure> {
    try {
      const client = await this.#soap()
      const [result, , , request] = await client[`${operation}Async`]!(args, { timeout: this.#s.timeoutMs })
      this.lastRequest = request
      return { ok: true, result: result ?? {} }
    } catch (err) {
      return soapFailure(err)
    }
  }
}
