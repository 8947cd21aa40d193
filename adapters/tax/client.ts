/**
 * Tax transport: the `soap` package over the WSDL in schemas/tax/, every request signed
 * by xml-crypto with RSA-SHA256 and exc-c14n: WS-Security by default (X.509 token,
 * Body and Timestamp referenced by Id), or an enveloped XML-DSig signature over the whole
 * envelope (`signature: "enveloped"`, Reference URI=""). SOAP faults, HTTP statuses and
 * transport errors map to delivery codes. Each signed request sent for a unit goes to the
 * message log.
 */
import { createPrivateKey, randomUUID } from 'node:crypto'
import { join } from 'node:path'
import soap from 'soap'
import { signXmlEnveloped } from '../../gateway/crypto/xml-signature.js'
import { scrub } from '../../gateway/logger.js'
import { schemaDir } from '../../gateway/paths.js'
import { statusFailure } from '../http.js'
import type { DeliveryResult, SignContext } from '../types.js'

type Failure = Extract<DeliveryResult, { ok: false }>

export const WSDL_PATH = join(schemaDir, 'tax', 'thue.wsdl')
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'

export interface TaxClientSettings {
  url: string
  keyPem: string
  certPem: string
  /** Whole-call timeout, ms. */
  timeoutMs: number
  /** How requests are signed (default WS-Security). */
  signature?: 'ws-security' | 'enveloped'
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
  readonly #settings: TaxClientSettings
  #client: Promise<SoapClient> | undefined
  /** Signed requests by exchange id, from the soap client's 'request' event until logged. */
  readonly #sent = new Map<string, string>()
  /** The last signed request sent (for interop checks). */
  lastRequest = ''

  constructor (settings: TaxClientSettings) {
    this.#settings = settings
  }

  #soap (): Promise<SoapClient> {
    this.#client ??= soap.createClientAsync(WSDL_PATH).then((c) => {
      c.setEndpoint(this.#settings.url)
      if (this.#settings.signature === 'enveloped') {
        const key = createPrivateKey(this.#settings.keyPem)
        c.setSecurity({ postProcess: (xml: string) => signXmlEnveloped(xml, key, this.#settings.certPem) } as unknown as soap.ISecurity)
      } else {
        c.setSecurity(new soap.WSSecurityCert(this.#settings.keyPem, this.#settings.certPem, '', { hasTimeStamp: true, signatureAlgorithm: RSA_SHA256 }))
      }
      c.on('request', (xml: string, eid: string) => { if (this.#sent.has(eid)) this.#sent.set(eid, xml) })
      return c as SoapClient
    })
    return this.#client
  }

  async call (operation: 'NopHoSo' | 'TraCuuHoSo' | 'LayThongBaoThue', args: Record<string, unknown>, sign?: SignContext): Promise<{ ok: true, result: Record<string, unknown> } | Failure> {
    const exchangeId = randomUUID()
    if (sign !== undefined) this.#sent.set(exchangeId, '')
    try {
      const client = await this.#soap()
      const [result, , , request] = await client[`${operation}Async`]!(args, { timeout: this.#settings.timeoutMs, exchangeId })
      this.lastRequest = request
      return { ok: true, result: result ?? {} }
    } catch (err) {
      return soapFailure(err)
    } finally {
      // The signature is inside the envelope; logged once the request went out, whatever came back.
      const sent = this.#sent.get(exchangeId)
      this.#sent.delete(exchangeId)
      if (sign !== undefined && sent !== undefined && sent !== '') await sign.signer.logSent(sent, sign, null)
    }
  }
}
