/** The e-archive's stand-in: POST /archive files a dossier and answers its reference; GET /closed?after=N lists closures. */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export class ArchiveSimulator {
  readonly filed = new Map<string, { ref: string, TrangThaiHoSo: unknown, times: number }>()
  readonly closures: Array<{ seq: number, MaHoSo: string, at: string }> = []
  #server: Server | undefined
  url = ''

  async start (): Promise<this> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x')
        res.setHeader('content-type', 'application/json')
        if (req.method === 'POST' && url.pathname === '/archive') {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { MaHoSo: string, TrangThaiHoSo: unknown }
          const known = this.filed.get(body.MaHoSo)
          const ref = known?.ref ?? `ARC-${this.filed.size + 1}`
          this.filed.set(body.MaHoSo, { ref, TrangThaiHoSo: body.TrangThaiHoSo, times: (known?.times ?? 0) + 1 })
          res.end(JSON.stringify({ ref }))
        } else if (req.method === 'GET' && url.pathname === '/closed') {
          const after = Number(url.searchParams.get('after') ?? '0')
          res.end(JSON.stringify(this.closures.filter((c) => c.seq > after)))
        } else {
          res.statusCode = 404
          res.end('{}')
        }
      })
    })
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
    return this
  }

  /** The archivists close a dossier. */
  close (maHoSo: string, at: string): void {
    this.closures.push({ seq: this.closures.length + 1, MaHoSo: maHoSo, at })
  }

  async stop (): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve())
  }
}
