import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { DvcqgAdapter, DvcqgSimulator } from '../../adapters/dvcqg/index.js'
import { classifyReply, toWireHoSo } from '../../adapters/dvcqg/codec.js'
import type { DeliveryUnit } from '../../adapters/registry.js'
import type { DvcqgDestination } from '../../schemas/types.js'
import { isRetryable } from '../../gateway/errors.js'
import { hoso, progress } from '../helpers.js'

const cfg = (url: string, extra: Partial<DvcqgDestination> = {}): DvcqgDestination => ({
  adapter: 'dvcqg', url, username: 'lgsp', password: 'dvcqg-dev-password', madonvi: '000.00.00.H56', concurrency: 2,
  authPath: '/api/auth', integrationPath: '/api/integration', progressChunk: 10,
  timeouts: { connectMs: 300, headersMs: 300, bodyMs: 300 }, ...extra
})

const dossierUnit = (n = 1, uncertain = false): DeliveryUnit => ({
  id: n, maHoSo: hoso(n).MaHoSo, messageId: 'm', op: 'dossier', attempts: 1, uncertain,
  payload: { record: toWireHoSo(hoso(n)), isUpdating: false }
})

/** A fake DVCQG whose integration endpoint answers with a fixed status and body. */
async function fixedServer (t: Test, status: number, body: unknown, headers: Record<string, string> = {}): Promise<string> {
  const server: Server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.url === '/api/auth') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 0, session: 's1' }))
        return
      }
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(typeof body === 'string' ? body : JSON.stringify(body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Every failure mode the adapter knows, with its fixture and expected code. */
const failureModes: Array<{ name: string, status: number, body: unknown, headers?: Record<string, string>, code: string, uncertain: boolean, retryAfterMs?: number }> = [
  { name: 'HTTP 500', status: 500, body: 'oops', code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE', uncertain: false },
  { name: 'HTTP 503 with Retry-After', status: 503, body: '', headers: { 'retry-after': '7' }, code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE', uncertain: false, retryAfterMs: 7000 },
  { name: 'HTTP 502 from a proxy', status: 502, body: '', code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE', uncertain: true },
  { name: 'HTTP 429', status: 429, body: '', code: 'LGSP_ERR_UPSTREAM_RATE_LIMITED', uncertain: false },
  { name: 'HTTP 400', status: 400, body: '', code: 'LGSP_ERR_UPSTREAM_REJECTED', uncertain: false },
  { name: 'HTTP 200 with HTML', status: 200, body: '<html>maintenance</html>', code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', uncertain: true },
  { name: 'business rejection', status: 200, body: { error_code: -1, message: 'Dữ liệu không hợp lệ: NgayHenTra' }, code: 'LGSP_ERR_DVCQG_REJECTED', uncertain: false },
  { name: 'busy', status: 200, body: { error_code: '99', message: 'Hệ thống đang quá tải, vui lòng thử lại sau' }, code: 'LGSP_ERR_DVCQG_BUSY', uncertain: false },
  { name: 'session refused even after a fresh login', status: 200, body: { error_code: -2, message: 'Session không hợp lệ' }, code: 'LGSP_ERR_DVCQG_SESSION', uncertain: false }
]

t.test('each DVCQG failure mode maps to its code', async (t) => {
  for (const f of failureModes) {
    const adapter = new DvcqgAdapter('dvcqg', cfg(await fixedServer(t, f.status, f.body, f.headers)))
    const r = await adapter.deliver(dossierUnit())
    t.match(r, { ok: false, code: f.code, uncertain: f.uncertain }, f.name)
    if (f.retryAfterMs !== undefined) t.match(r, { retryAfterMs: f.retryAfterMs }, `${f.name}: Retry-After`)
    await adapter.close()
  }
})

t.test('transport failures: refused is certain, a timeout after sending is not', async (t) => {
  const sim = await new DvcqgSimulator().start()
  const url = sim.url
  const adapter = new DvcqgAdapter('dvcqg', cfg(url))
  t.teardown(() => adapter.close())
  await sim.stop()
  t.match(await adapter.deliver(dossierUnit()), { ok: false, code: 'LGSP_ERR_UPSTREAM_NETWORK', uncertain: false }, 'connection refused')
  await sim.start(sim.server.port)
  t.teardown(() => sim.stop())
  sim.server.setFaults({ mode: 'hang', paths: [sim.integrationPath] })
  t.match(await adapter.deliver(dossierUnit()), { ok: false, code: 'LGSP_ERR_UPSTREAM_TIMEOUT', uncertain: true }, 'no reply in time')
  sim.server.setFaults({ mode: 'drop' })
  t.match(await adapter.deliver(dossierUnit(2)), { ok: false, code: 'LGSP_ERR_UPSTREAM_NETWORK', uncertain: true }, 'connection cut after applying')
  t.ok(sim.dossiers.has(hoso(2).MaHoSo), 'the simulator did apply it')
  sim.server.setFaults({ mode: 'none' })
  t.match(await adapter.deliver(dossierUnit(2, true)), { ok: true, note: /already held/ }, 'the uncertain retry checks first and does not resend')
  t.equal(sim.repeats, 0)
})

t.test('a wrong password is a login failure, retried (operators fix the config, nothing is dead-lettered)', async (t) => {
  const sim = await new DvcqgSimulator().start()
  t.teardown(() => sim.stop())
  const adapter = new DvcqgAdapter('dvcqg', cfg(sim.url, { password: 'wrong' }))
  t.teardown(() => adapter.close())
  t.match(await adapter.deliver(dossierUnit()), { ok: false, code: 'LGSP_ERR_DVCQG_LOGIN', uncertain: false })
  t.equal(isRetryable('LGSP_ERR_DVCQG_LOGIN'), true)
})

t.test('logins are shared by concurrent calls and renewed once on expiry', async (t) => {
  const sim = await new DvcqgSimulator({ sessionTtlMs: 60_000 }).start()
  t.teardown(() => sim.stop())
  const adapter = new DvcqgAdapter('dvcqg', cfg(sim.url, { concurrency: 8 }))
  t.teardown(() => adapter.close())
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => adapter.deliver(dossierUnit(i + 1))))
  t.ok(results.every((r) => r.ok))
  t.equal(sim.logins, 1, 'one login for eight concurrent calls')
  sim.expireSessions()
  t.match(await adapter.deliver(dossierUnit(9)), { ok: true })
  t.equal(sim.logins, 2)
})

t.test('an update DVCQG does not know becomes a create; progress sends only what an uncertain attempt left out', async (t) => {
  const sim = await new DvcqgSimulator().start()
  t.teardown(() => sim.stop())
  const adapter = new DvcqgAdapter('dvcqg', cfg(sim.url))
  t.teardown(() => adapter.close())
  const unit = { ...dossierUnit(5), payload: { record: toWireHoSo(hoso(5)), isUpdating: true } }
  t.match(await adapter.deliver(unit), { ok: true })
  t.equal(sim.dossiers.get(hoso(5).MaHoSo)?.creates, 1)

  const id = hoso(5).MaHoSo
  const entries = [progress(id, 10, 4), progress(id, 20, 5, 'Yêu cầu bổ sung')].map((e) => ({ ...e, TrangThai: String(e.TrangThai) }))
  sim.dossiers.get(id)!.progress.push(entries[0]!)
  t.match(await adapter.deliver({ id: 6, maHoSo: id, messageId: 'm', op: 'progress', attempts: 2, uncertain: true, payload: { entries } }), { ok: true })
  t.same(sim.dossiers.get(id)!.progress.map((p) => p.NoiDungXuLy), ['Chuyển xử lý', 'Yêu cầu bổ sung'])
  t.equal(sim.repeats, 0)
})

t.test('reply classification by code or wording', async (t) => {
  t.equal(classifyReply({ error_code: '0' })?.cls, 'ok')
  t.equal(classifyReply({ error_code: 12, message: 'Hồ sơ đã tồn tại trong hệ thống' })?.cls, 'exists')
  t.equal(classifyReply({ error_code: 12, message: 'Mã hồ sơ không tồn tại' })?.cls, 'missing')
  t.equal(classifyReply({ error_code: -2 })?.cls, 'session')
  t.equal(classifyReply({ error_code: 7, message: 'Sai định dạng' })?.cls, 'rejected')
  t.equal(classifyReply({ message: 'no code' }), undefined)
})
