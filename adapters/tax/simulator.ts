/**
 * A stand-in for the tax service: a SOAP server (the `soap` package, the same WSDL) that
 * receives dossiers, answers TraCuuHoSo, and returns notices once `issueNotice` was called.
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
import { noticeXml, type TaxNoticeRow } from './codec.js'

export interface TaxSimulatorOptions {
  path?: string
  random?: () => number
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
