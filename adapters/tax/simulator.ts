/**
 * A stand-in for the tax side: a SOAP server (the `soap` package, the same WSDL) that
 * receives dossiers, answers TraCuuHoSo, and returns notices once `issueNotice` was called;
 * and, as in the real world, the push of notices and receipts to the province the way DVCQG
 * does it (`pushNotice`, `pushReceipt`, or `POST /_sim/push` for the demo): JSON with the
 * notice XML in base64 to ImportThongBaoThueFromDVCQG, the receipt JSON to
 * ImportChungTuThueFromDVCQG, authenticated by `SecurityKey`. `GET /_sim/state` shows what
 * it holds and pushed.
 * Overload modes, switchable at run time: `error` (503), `hang`, `slow` (applies, answers
 * late), `drop` (applies, cuts the connection), `random` (a share of each). It keeps the
 * signed requests it received, so tests can check them with an independent tool.
 */
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import soap from 'soap'
import { chooseEffect, closeHard, defaultFaults, listenTracked, type Effect, type FaultSettings } from '../simulator-kit.js'
import { WSDL_PATH } from './client.js'
import { formatDvcqgDate } from '../../gateway/ledger/dates.js'
import { noticePushBody, noticeXml, type TaxNoticeRow } from './codec.js'

export interface TaxSimulatorOptions {
  path?: string
  random?: () => number
}

/** Where pushes go: the gateway's base URL and the pusher's SecurityKey (its member secret there). */
export interface TaxPushTarget {
  url: string
  securityKey: string
}

/** One push and the gateway's answer. */
export interface TaxPush {
  kind: 'notice' | 'receipt'
  status: number
  body: unknown
}

interface Held {
  maTiepNhan: string
  submission: Record<string, unknown>
  notice?: string
}

export class TaxSimulator {
  readonly held = new Map<string, Held>()
  /** Submissions of a dossier already held: a double application. */
  repeats = 0
  faults: FaultSettings = { ...defaultFaults }
  readonly counters: Record<Effect | 'requests', number> = { requests: 0, pass: 0, error: 0, hang: 0, slow: 0, drop: 0 }
  /** Raw SOAP requests received (the latest 50). */
  readonly requests: string[] = []
  readonly path: string
  readonly #random: () => number
  #server: Server | undefined
  readonly #sockets = new Set<Socket>()
  #port = 0
  /** Where `pushNotice` and `pushReceipt` send (set once the gateway listens). */
  pushTarget: TaxPushTarget | undefined
  /** Pushes made, with the gateway's answers (the latest 100). */
  readonly pushes: TaxPush[] = []

  constructor (options: TaxSimulatorOptions = {}) {
    this.path = options.path ?? '/thue'
    this.#random = options.random ?? Math.random
  }

  get url (): string { return `http://127.0.0.1:${this.#port}${this.path}` }
  get port (): number { return this.#port }

  setFaults (f: Partial<FaultSettings>): void { this.faults = { ...this.faults, ...f } }

  /** The tax office issues its notice for a dossier. */
  issueNotice (rows: readonly TaxNoticeRow[]): void {
    const h = this.held.get(rows[0]!.MA_HSO)
    if (h !== undefined) h.notice = noticeXml(rows)
  }

  async #push (kind: TaxPush['kind'], path: string, body: unknown): Promise<TaxPush> {
    if (this.pushTarget === undefined) return { kind, status: 0, body: { error: 'no push target: set pushTarget' } }
    const res = await fetch(`${this.pushTarget.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const text = await res.text()
    let parsed: unknown = text
    try { parsed = JSON.parse(text) } catch {}
    const push = { kind, status: res.status, body: parsed }
    this.pushes.push(push)
    if (this.pushes.length > 100) this.pushes.shift()
    return push
  }

  /** Pushes a notice as DVCQG does (ImportThongBaoThueFromDVCQG); `xml` replaces the document built from `rows` (hostile-input tests). */
  pushNotice (rows: readonly TaxNoticeRow[], xml = noticeXml(rows)): Promise<TaxPush> {
    return this.#push('notice', '/v1/tax/ImportThongBaoThueFromDVCQG', noticePushBody(xml, this.pushTarget?.securityKey ?? '', formatDvcqgDate(Date.now()).slice(0, 8)))
  }

  /** Pushes a receipt (chứng từ thuế) as DVCQG does (ImportChungTuThueFromDVCQG). */
  pushReceipt (data: Record<string, unknown>): Promise<TaxPush> {
    return this.#push('receipt', '/v1/tax/ImportChungTuThueFromDVCQG', { SecurityKey: this.pushTarget?.securityKey ?? '', Service: 'ChungTuThue', IsUpdating: 'False', Data: data })
  }

  #state (): Record<string, unknown> {
    return { held: this.held.size, repeats: this.repeats, faults: this.faults, counters: this.counters, pushes: this.pushes.slice(-10) }
  }

  /** `POST /_sim/push` body `{MaHoSo, lines: [{TEN_TIEUMUC, SO_TIEN}], SO_QUYET_DINH?}` or `{kind: "receipt", Data}` (the demo's). */
  async #simPush (body: Record<string, unknown>): Promise<TaxPush> {
    if (body.kind === 'receipt') return this.pushReceipt((body.Data ?? {}) as Record<string, unknown>)
    const maHoSo = String(body.MaHoSo ?? '')
    const decision = String(body.SO_QUYET_DINH ?? `TB-${maHoSo.slice(-4)}`)
    const lines = Array.isArray(body.lines) ? body.lines as Array<{ TEN_TIEUMUC?: string, SO_TIEN?: number }> : [{ TEN_TIEUMUC: 'Lệ phí trước bạ', SO_TIEN: 500_000 }]
    const day = formatDvcqgDate(Date.now())
    return this.pushNotice(lines.map((l) => ({ MA_HSO: maHoSo, MA_SO_THUE: '8000000000', SO_QUYET_DINH: decision, NGAY_QUYET_DINH: day, TEN_TIEUMUC: String(l.TEN_TIEUMUC ?? 'Thuế'), SO_TIEN: Number(l.SO_TIEN ?? 0) })))
  }

  #services (): soap.IServices {
    const fault = (text: string): never => {
      // The soap package turns a thrown { Fault } object into a SOAP fault.
      throw { Fault: { faultcode: 'soap:Client', faultstring: text } }
    }
    return {
      ThueService: {
        ThuePort: {
          NopHoSo: (args: Record<string, unknown>) => {
            if (typeof args.maHoSo !== 'string' || args.maHoSo === '' || typeof args.nguoiNop !== 'string') fault('Thiếu mã hồ sơ hoặc người nộp')
            const id = args.maHoSo as string
            const h = this.held.get(id)
            if (h !== undefined) {
              this.repeats++
              return { maTiepNhan: h.maTiepNhan }
            }
            const maTiepNhan = `TN-${this.held.size + 1}`
            this.held.set(id, { maTiepNhan, submission: args })
            return { maTiepNhan }
          },
          TraCuuHoSo: (args: Record<string, unknown>) => {
            const h = this.held.get(String(args.maHoSo))
            return h === undefined ? { daTiepNhan: false } : { daTiepNhan: true, maTiepNhan: h.maTiepNhan }
          },
          LayThongBaoThue: (args: Record<string, unknown>) => {
            const h = this.held.get(String(args.maHoSo))
            return h?.notice === undefined ? { coThongBao: false } : { coThongBao: true, thongBao: h.notice }
          }
        }
      }
    }
  }

  async start (port = this.#port): Promise<this> {
    if (this.#server !== undefined) return this
    const server = createServer()
    soap.listen(server, this.path, this.#services(), readFileSync(WSDL_PATH, 'utf8'))
    // The soap package attaches its handler once the WSDL is read; then the faults go in front of it.
    for (let i = 0; i < 1000 && server.listeners('request').length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 1))
    const handlers = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>
    server.removeAllListeners('request')
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      // The simulator's own routes answer before the SOAP listener (which never answers other paths).
      if (req.url === '/_sim/state' && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.#state()))
        return
      }
      if (req.url === '/_sim/push' && req.method === 'POST') {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          let body: Record<string, unknown>
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>
          } catch {
            res.writeHead(400).end()
            return
          }
          this.#simPush(body).then(
            (p) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(p)),
            (err: unknown) => res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String((err as Error).message) })))
        })
        return
      }
      // Switch the overload modes at run time, as on the other simulators.
      if (req.url === '/_sim/faults' && req.method === 'POST') {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          try {
            this.setFaults(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<FaultSettings>)
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.faults))
          } catch {
            res.writeHead(400).end()
          }
        })
        return
      }
      if (req.method === 'POST') {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          this.requests.push(Buffer.concat(chunks).toString('utf8'))
          if (this.requests.length > 50) this.requests.shift()
        })
        this.counters.requests++
      }
      const effect = req.method === 'POST' ? chooseEffect(this.faults, this.path, this.#random) : 'pass'
      this.counters[effect]++
      if (effect === 'error') { req.resume(); res.writeHead(503).end(); return }
      if (effect === 'hang') { req.resume(); return }
      if (effect === 'slow' || effect === 'drop') {
        const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse
        res.end = ((...a: unknown[]) => {
          if (effect === 'drop') res.socket?.destroy()
          else setTimeout(() => end(...a), this.faults.delayMs)
          return res
        }) as ServerResponse['end']
      }
      for (const h of handlers) h.call(server, req, res)
    })
    this.#port = await listenTracked(server, this.#sockets, port)
    this.#server = server
    return this
  }

  async stop (): Promise<void> {
    const server = this.#server
    if (server === undefined) return
    this.#server = undefined
    await closeHard(server, this.#sockets)
  }
}
