/**
 * What every simulator shares: a real node:http server on a loopback port that reads JSON,
 * routes by method and path, and misbehaves on demand the way overloaded national systems
 * do. Faults are switchable at run time from code or over HTTP (`POST /_sim/faults`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'

/**
 * - `error`: replies 503 without applying anything.
 * - `hang`: never replies, applies nothing (the client times out, unsure).
 * - `slow`: applies, then replies after `delayMs` (may exceed the client's timeout).
 * - `drop`: applies, then cuts the connection without a reply.
 * - `random`: each request, with probability `rate`, one of the four above.
 */
export type FaultMode = 'none' | 'error' | 'hang' | 'slow' | 'drop' | 'random'

export interface FaultSettings {
  mode: FaultMode
  /** Share of requests hit in `random` mode, 0–1. */
  rate: number
  /** Delay for `slow`, in ms. */
  delayMs: number
  /** Paths the faults apply to; others (e.g. login) pass. Empty: all. */
  paths: string[]
}

export const defaultFaults: FaultSettings = { mode: 'none', rate: 0, delayMs: 2000, paths: [] }

/** Listens on a loopback port (0 picks one) and keeps track of open sockets; returns the port. */
export async function listenTracked (server: Server, sockets: Set<Socket>, port: number, host = '127.0.0.1'): Promise<number> {
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  return (server.address() as AddressInfo).port
}

/** Stops a server at once: every open connection is cut (the system "goes down"). */
export async function closeHard (server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

/** The effect chosen for one request. */
export type Effect = 'pass' | 'error' | 'hang' | 'slow' | 'drop'

/** What the faults do to one request on `path`. */
export function chooseEffect (f: FaultSettings, path: string, random: () => number): Effect {
  if (f.mode === 'none' || (f.paths.length > 0 && !f.paths.includes(path))) return 'pass'
  if (f.mode !== 'random') return f.mode
  if (random() >= f.rate) return 'pass'
  const effects: Effect[] = ['error', 'hang', 'slow', 'drop']
  return effects[Math.floor(random() * effects.length)]!
}

export interface SimRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingMessage['headers']
  body: unknown
}

export interface SimReply {
  status: number
  body: unknown
  headers?: Record<string, string>
}

/** A route handler; `apply` work happens inside it, so faults decide around it. */
export type SimHandler = (req: SimRequest) => SimReply | Promise<SimReply>

export interface SimServerOptions {
  name: string
  routes: Record<string, SimHandler>
  /** Random source, replaceable for repeatable tests. */
  random?: () => number
}

/** A simulator's HTTP server with faults, stop and restart on the same port. */
export class SimServer {
  readonly name: string
  faults: FaultSettings = { ...defaultFaults }
  /** Answers requests no route matched (e.g. paths with parameters); undefined falls through to 404. */
  fallback: ((req: SimRequest) => SimReply | undefined) | undefined
  readonly #routes: Record<string, SimHandler>
  readonly #random: () => number
  #server: Server | undefined
  readonly #sockets = new Set<Socket>()
  #port = 0
  #host = '127.0.0.1'
  /** Requests that carried the gateway's signature (X-Lgsp-Signature), as received: what a receiver keeps to check it (the last 10,000). */
  readonly signed: Array<{ path: string, raw: string, signature: string, proof: string | undefined }> = []
  /** W3C traceparent headers received, with the path (the last 1,000): whose trace a delivery continued. */
  readonly traces: Array<{ path: string, traceparent: string }> = []
  /** Requests seen, and how many were hit by each effect. */
  readonly counters: Record<Effect | 'requests', number> = { requests: 0, pass: 0, error: 0, hang: 0, slow: 0, drop: 0 }

  constructor (options: SimServerOptions) {
    this.name = options.name
    this.#routes = options.routes
    this.#random = options.random ?? Math.random
  }

  get port (): number { return this.#port }
  get url (): string { return `http://${this.#host}:${this.#port}` }
  get running (): boolean { return this.#server !== undefined }

  /** Listens; port 0 picks a free port, later restarts reuse it. */
  async start (port = this.#port, host = this.#host): Promise<this> {
    if (this.#server !== undefined) return this
    const server = createServer((req, res) => { void this.#handle(req, res) })
    server.keepAliveTimeout = 5000
    this.#port = await listenTracked(server, this.#sockets, port, host)
    this.#server = server
    this.#host = host
    return this
  }

  /** Stops listening and cuts every open connection (the system "goes down"). */
  async stop (): Promise<void> {
    const server = this.#server
    if (server === undefined) return
    this.#server = undefined
    await closeHard(server, this.#sockets)
  }

  setFaults (f: Partial<FaultSettings>): void {
    this.faults = { ...this.faults, ...f }
  }


  async #handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim')
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const raw = Buffer.concat(chunks).toString('utf8')
    const signature = req.headers['x-lgsp-signature']
    if (typeof signature === 'string') {
      const proof = req.headers['x-lgsp-signature-proof']
      this.signed.push({ path: url.pathname, raw, signature, proof: typeof proof === 'string' ? proof : undefined })
      if (this.signed.length > 10_000) this.signed.shift()
    }
    const traceparent = req.headers.traceparent
    if (typeof traceparent === 'string') {
      this.traces.push({ path: url.pathname, traceparent })
      if (this.traces.length > 1000) this.traces.shift()
    }
    const send = (r: SimReply): void => {
      if (res.destroyed) return
      res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers })
      res.end(r.body === undefined ? '' : JSON.stringify(r.body))
    }
    if (url.pathname === '/_sim/faults' && req.method === 'POST') {
      try {
        this.setFaults(JSON.parse(raw) as Partial<FaultSettings>)
        send({ status: 200, body: this.faults })
      } catch {
        send({ status: 400, body: { error: 'faults body must be JSON' } })
      }
      return
    }
    const handler = this.#routes[`${req.method ?? 'GET'} ${url.pathname}`]
    if (handler === undefined) {
      const fallback = this.fallback?.({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: undefined })
      send(fallback ?? { status: 404, body: { error: 'no such route' } })
      return
    }
    let body: unknown
    try {
      body = raw.length === 0 ? undefined : JSON.parse(raw)
    } catch {
      send({ status: 400, body: { error: 'body is not JSON' } })
      return
    }
    this.counters.requests++
    const effect = url.pathname.startsWith('/_sim/') ? 'pass' : chooseEffect(this.faults, url.pathname, this.#random)
    this.counters[effect]++
    if (effect === 'error') { send({ status: 503, body: { error: 'service unavailable (simulated)' } }); return }
    if (effect === 'hang') return // the socket stays open until the client gives up or the server stops
    let reply: SimReply
    try {
      reply = await handler({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body })
    } catch {
      reply = { status: 500, body: { error: 'simulator failure' } }
    }
    if (effect === 'drop') { res.socket?.destroy(); return }
    if (effect === 'slow') await new Promise((resolve) => setTimeout(resolve, this.faults.delayMs))
    send(reply)
  }
}

/** A free loopback port, for a server started in another process (a gateway, a benchmark target). */
export async function freePort (): Promise<number> {
  const srv = createNetServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as AddressInfo
  await new Promise((resolve) => srv.close(resolve))
  return port
}
