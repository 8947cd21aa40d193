import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { DvcqgAdapter } from '../../adapters/dvcqg/index.js'
import { DvcqgSimulator } from '../../adapters/dvcqg/simulator.js'
import { classifyReply, toWireHoSo } from '../../adapters/dvcqg/codec.js'
import type { DeliveryUnit } from '../../adapters/registry.js'
import type { DvcqgDestination } from '../../schemas/types.js'
import { isRetryable } from '../../gateway/errors.js'
import { outboundTrace, traceparentFor } from '../../adapters/http.js'
import { hoso, progress } from '../helpers.js'

const cfg = (url: string, extra: Partial<DvcqgDestination> = {}): DvcqgDestination => ({
  adapter: 'dvcqg', url, username: 'lgsp', password: 'dvcqg-dev-password', madonvi: '000.00.00.H56', concurrency: 2,
  authPath: '/api/auth', integrationPath: '/api/integration', progressChunk: 10, sessionRenewMs: 600_000, statusSync: false,
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
  // A 5xx after the request went out may follow the portal's own write: the retry looks it up first.
  { name: 'HTTP 500', status: 500, body: 'oops', code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE', uncertain: true },
  { name: 'HTTP 503 with Retry-After', status: 503, body: '', headers: { 'retry-after': '7' }, code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE', uncertain: true, retryAfterMs: 7000 },
  { name: 'HTTP 502 from a proxy', status: 502, body: '', code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE', uncertain: true },
  { name: 'HTTP 429', status: 429, body: '', code: 'LGSP_ERR_UPSTREAM_RATE_LIMITED', uncertain: false },
  { name: 'HTTP 400', status: 400, body: '', code: 'LGSP_ERR_UPSTREAM_REJECTED', uncertain: false },
  { name: 'HTTP 200 with HTML', status: 200, body: '<html>maintenance</html>', code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', uncertain: true },
  { name: 'business rejection', status: 200, body: { error_code: '-1', message: 'Dữ liệu không hợp lệ: NgayHenTra' }, code: 'LGSP_ERR_DVCQG_REJECTED', uncertain: false },
  { name: 'business rejection with a numeric code', status: 200, body: { error_code: -1, message: 'Dữ liệu không hợp lệ' }, code: 'LGSP_ERR_DVCQG_REJECTED', uncertain: false },
  { name: 'busy', status: 200, body: { error_code: '99', message: 'Hệ thống đang quá tải, vui lòng thử lại sau' }, code: 'LGSP_ERR_DVCQG_BUSY', uncertain: false },
  { name: 'session refused even after a fresh login', status: 200, body: { error_code: '-2', message: 'Session không hợp lệ' }, code: 'LGSP_ERR_DVCQG_SESSION', uncertain: false }
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

t.test('a wrong password is a login failure that pauses the destination, naming the setting to fix; the probe is a login', async (t) => {
  const sim = await new DvcqgSimulator().start()
  t.teardown(() => sim.stop())
  const adapter = new DvcqgAdapter('dvcqg-hcm', cfg(sim.url, { password: 'wrong' }))
  t.teardown(() => adapter.close())
  t.match(await adapter.deliver(dossierUnit()), { ok: false, code: 'LGSP_ERR_DVCQG_LOGIN', uncertain: false, pause: { fix: /destinations\.dvcqg-hcm\.password \(LGSP_DEST_DVCQG_HCM_PASSWORD\)/ } })
  t.equal(isRetryable('LGSP_ERR_DVCQG_LOGIN'), true)
  t.match(await adapter.probe(), { ok: false, pause: {} }, 'the probe is refused too')
  const good = new DvcqgAdapter('dvcqg', cfg(sim.url))
  t.teardown(() => good.close())
  t.match(await good.probe(), { ok: true })
  t.equal(sim.calls.DongBoHoSoMC ?? 0, 0, 'a probe sends no message')
})

t.test('progress for a dossier DVCQG does not hold asks for a re-sync; resync creates it from the ledger record', async (t) => {
  const sim = await new DvcqgSimulator().start()
  t.teardown(() => sim.stop())
  const adapter = new DvcqgAdapter('dvcqg', cfg(sim.url))
  t.teardown(() => adapter.close())
  const record = hoso(7)
  const [plan] = adapter.units({ kind: 'progress', messageId: 'm', sender: 's', maHoSo: record.MaHoSo, entries: [progress(record.MaHoSo, 10, 4)] })
  const unit: DeliveryUnit = { id: 1, maHoSo: record.MaHoSo, messageId: 'm', op: 'progress', attempts: 1, uncertain: false, payload: plan!.payload }
  t.match(await adapter.deliver(unit), { ok: false, code: 'LGSP_ERR_DVCQG_REJECTED', resync: true, message: /không tồn tại/ })
  t.match(await adapter.resync(unit, record), { ok: true })
  t.match(sim.dossiers.get(record.MaHoSo), { creates: 1, record: { MaHoSo: record.MaHoSo, MaTTHC: record.MaTTHC } })
  t.match(await adapter.resync(unit, record), { ok: true }, 'held already: "already exists" turns into an update')
  t.match(await adapter.deliver(unit), { ok: true })
})

t.test('delivery requests carry the attempt\'s traceparent and the message id as x-request-id', async (t) => {
  const seen: Array<Record<string, unknown>> = []
  const server: Server = createServer((req, res) => {
    seen.push({ ...req.headers })
    req.resume()
    req.on('end', () => {
      const body = req.url === '/api/auth' ? { error_code: 0, session: 's1' } : { error_code: 0, message: 'Thành công' }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const adapter = new DvcqgAdapter('dvcqg', cfg(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
  t.teardown(() => adapter.close())
  const messageId = '01936f1e-3b1c-7cc0-8a3e-1f2d3c4b5a69'
  const traceparent = traceparentFor(messageId)
  t.match(traceparent, /^00-01936f1e3b1c7cc08a3e1f2d3c4b5a69-[0-9a-f]{16}-01$/, 'the message id is the trace id')
  t.not(traceparentFor(messageId), traceparent, 'a new span id per attempt')
  t.match(await outboundTrace.run({ traceparent, requestId: messageId }, () => adapter.deliver(dossierUnit())), { ok: true })
  t.equal(seen.length, 2, 'login and the call')
  for (const h of seen) t.match(h, { traceparent, 'x-request-id': messageId })
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
  t.equal(classifyReply({ error_code: '00', message: 'Thực hiện thành công' })?.cls, 'ok', 'the portal answers "00"')
  t.equal(classifyReply({ error_code: '0' })?.cls, 'ok')
  t.equal(classifyReply({ error_code: 0 })?.cls, 'ok')
  t.equal(classifyReply({ error_code: '000' })?.cls, 'rejected', 'only 0, "0" and "00" are success')
  t.same(classifyReply({ error_code: '00', result: [] })?.result, [])
  t.equal(classifyReply({ error_code: 12, message: 'Hồ sơ đã tồn tại trong hệ thống' })?.cls, 'exists')
  t.equal(classifyReply({ error_code: 12, message: 'Mã hồ sơ không tồn tại' })?.cls, 'missing')
  t.equal(classifyReply({ error_code: -2 })?.cls, 'session')
  t.equal(classifyReply({ error_code: 7, message: 'Sai định dạng' })?.cls, 'rejected')
  t.equal(classifyReply({ message: 'no code' }), undefined)
})

t.test('the simulator answers success as "00" and TraCuuHoSo with result: [record] or []', async (t) => {
  const sim = await new DvcqgSimulator().start()
  t.teardown(() => sim.stop())
  const adapter = new DvcqgAdapter('dvcqg', cfg(sim.url))
  t.teardown(() => adapter.close())
  const call = await adapter.client.call('TraCuuHoSo', { mahoso: hoso(1).MaHoSo })
  t.match(call, { ok: true, reply: { cls: 'ok', errorCode: '00', result: [] } }, 'an unknown dossier is an empty result, not an error')
  t.same(await adapter.lookUp(hoso(1).MaHoSo), { ok: true, held: undefined })
  t.match(await adapter.deliver(dossierUnit(1)), { ok: true })
  const look = await adapter.lookUp(hoso(1).MaHoSo)
  t.match(look, { ok: true, held: { MaHoSo: hoso(1).MaHoSo, QuaTrinhXuLy: [] } })
})

t.test('a look-up that does not answer with a result list stays uncertain', async (t) => {
  const adapter = new DvcqgAdapter('dvcqg', cfg(await fixedServer(t, 200, { error_code: '00', message: 'Thành công' })))
  t.teardown(() => adapter.close())
  t.match(await adapter.lookUp('x'), { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY', uncertain: true })
})

t.test('integration calls carry the dstcode header (madonvi unless configured); the simulator refuses a call without it', async (t) => {
  const sim = await new DvcqgSimulator().start()
  t.teardown(() => sim.stop())
  const plain = new DvcqgAdapter('dvcqg', cfg(sim.url))
  t.teardown(() => plain.close())
  t.match(await plain.deliver(dossierUnit(1)), { ok: true })
  t.same(sim.dstcodes, { '000.00.00.H56': 1 }, 'madonvi by default')
  const configured = new DvcqgAdapter('dvcqg', cfg(sim.url, { dstcode: 'H56.LGSP' }))
  t.teardown(() => configured.close())
  t.match(await configured.deliver(dossierUnit(2)), { ok: true })
  t.equal(sim.dstcodes['H56.LGSP'], 1)
  // A client that leaves the header out, as the portal sees it.
  const { request } = await import('undici')
  const login = await (await request(`${sim.url}/api/auth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'lgsp', password: 'dvcqg-dev-password' }) })).body.json() as { session: string }
  const res = await request(`${sim.url}/api/integration`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session: login.session, madonvi: '000.00.00.H56', service: 'TraCuuHoSo', mahoso: hoso(1).MaHoSo }) })
  const body = await res.body.json() as { error_code: string, message: string }
  t.not(body.error_code, '00')
  t.match(body.message, /dstcode/)
  t.equal(classifyReply(body)?.cls, 'rejected')
  t.equal(sim.missingDstcode, 1)
})

t.test('a session older than sessionRenewMs is renewed before the next call, with no refused call first', async (t) => {
  let now = 1_000_000
  const clock = (): number => now
  const sim = await new DvcqgSimulator({ now: clock, sessionTtlMs: 11 * 60_000 }).start()
  t.teardown(() => sim.stop())
  const adapter = new DvcqgAdapter('dvcqg', cfg(sim.url, { sessionRenewMs: 10 * 60_000 }), { now: clock })
  t.teardown(() => adapter.close())
  t.match(await adapter.deliver(dossierUnit(1)), { ok: true })
  now += 9 * 60_000
  t.match(await adapter.deliver(dossierUnit(2)), { ok: true })
  t.equal(sim.logins, 1, 'a nine-minute-old session is still used')
  now += 60_000
  t.match(await adapter.deliver(dossierUnit(3)), { ok: true })
  t.equal(sim.logins, 2, 'renewed at ten minutes')
  t.equal(adapter.client.renewals, 1)
  t.equal(sim.expiredCalls, 0, 'no call was refused for an expired session')
  now += 12 * 60_000
  sim.expireSessions()
  t.match(await adapter.deliver(dossierUnit(4)), { ok: true }, 'a session lost anyway still gets one fresh login')
  t.equal(sim.expiredCalls, 0, 'the old session was renewed before use: nothing refused')
})

t.test('simulator sessions expire after their ttl; a refused session gets one fresh login and the call is resent', async (t) => {
  let now = 1_000_000
  const clock = (): number => now
  const sim = await new DvcqgSimulator({ now: clock, sessionTtlMs: 5_000 }).start()
  t.teardown(() => sim.stop())
  // The client's clock stands still: it believes its session is young, the portal does not.
  const adapter = new DvcqgAdapter('dvcqg', cfg(sim.url))
  t.teardown(() => adapter.close())
  t.match(await adapter.deliver(dossierUnit(1)), { ok: true })
  now += 6_000
  t.match(await adapter.deliver(dossierUnit(2)), { ok: true })
  t.equal(sim.expiredCalls, 1)
  t.equal(sim.logins, 2)
})

t.test('a 500 after DVCQG applied the dossier is uncertain; the retry looks it up and does not send it again', async (t) => {
  const sim = await new DvcqgSimulator().start()
  t.teardown(() => sim.stop())
  const adapter = new DvcqgAdapter('dvcqg', cfg(sim.url))
  t.teardown(() => adapter.close())
  sim.failAfterApplying(1, 500)
  const first = await adapter.deliver(dossierUnit(7))
  t.match(first, { ok: false, code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE', uncertain: true })
  t.ok(sim.dossiers.has(hoso(7).MaHoSo), 'DVCQG applied it before failing')
  const retry = await adapter.deliver(dossierUnit(7, true))
  t.match(retry, { ok: true, note: /already held/ })
  t.equal(sim.calls.DongBoHoSoMC, 1, 'sent once')
  t.equal(sim.calls.TraCuuHoSo, 1, 'looked up once')
  t.equal(sim.repeats, 0)

  // The same for progress: the entries DVCQG took are not sent again.
  const id = hoso(7).MaHoSo
  const entries = [progress(id, 10, 4)].map((e) => ({ ...e, TrangThai: String(e.TrangThai) }))
  sim.failAfterApplying(1, 502)
  const unit = { id: 8, maHoSo: id, messageId: 'm', op: 'progress', attempts: 1, uncertain: false, payload: { entries } }
  t.match(await adapter.deliver(unit), { ok: false, uncertain: true })
  t.match(await adapter.deliver({ ...unit, attempts: 2, uncertain: true }), { ok: true, note: /already held/ })
  t.equal(sim.dossiers.get(id)!.progress.length, 1)
  t.equal(sim.repeats, 0)
})

t.test('with statusSync a progress message also sends its latest status with DongBoTrangThaiHoSo', async (t) => {
  const sim = await new DvcqgSimulator().start()
  t.teardown(() => sim.stop())
  const off = new DvcqgAdapter('dvcqg', cfg(sim.url))
  t.teardown(() => off.close())
  const id = hoso(3).MaHoSo
  const message = { kind: 'progress' as const, messageId: 'm', sender: 's', maHoSo: id, entries: [progress(id, 10, 2), progress(id, 20, 4)] }
  t.same(off.units(message).map((u) => u.op), ['progress'], 'off by default')
  const adapter = new DvcqgAdapter('dvcqg', cfg(sim.url, { statusSync: true }))
  t.teardown(() => adapter.close())
  const plans = adapter.units(message)
  t.same(plans.map((u) => u.op), ['progress', 'status'], 'the status follows the progress')
  t.match(plans[1]!.payload, { data: { MaHoSo: id, TrangThai: '4', TrangThaiHoSo: '4', NgayXuLy: progress(id, 20, 4).ThoiDiemXuLy } })
  const unit = (n: number, payload: unknown, uncertain = false): DeliveryUnit => ({ id: n, maHoSo: id, messageId: 'm', op: 'status', attempts: 1, uncertain, payload })

  t.match(await adapter.deliver(unit(1, plans[1]!.payload)), { ok: false, code: 'LGSP_ERR_DVCQG_REJECTED', message: /không tồn tại/, resync: true }, 'refused for a dossier DVCQG does not hold: re-sync it first')
  t.match(await adapter.deliver(dossierUnit(3)), { ok: true })
  t.equal(sim.dossiers.get(id)!.record.TrangThaiHoSo, '2')
  t.match(await adapter.deliver(unit(2, plans[1]!.payload)), { ok: true })
  t.equal(sim.dossiers.get(id)!.record.TrangThaiHoSo, '4', 'DVCQG holds the new status')
  t.equal(sim.statusUpdates, 1)
  t.match(await adapter.deliver(unit(3, plans[1]!.payload, true)), { ok: true, note: /already held/ }, 'an uncertain resend checks first')
  t.equal(sim.statusUpdates, 1)
  const wrongType = await adapter.client.call('DongBoTrangThaiHoSo', { type: '1', data: { MaHoSo: id, TrangThai: '4' } })
  t.match(wrongType, { ok: true, reply: { cls: 'rejected' } }, 'type must be "2"')
})

t.test('catalogue reads: LayDanhSachTTHC, LayThuTuc (both MaTTHC forms) and LayDanhMucCoQuan', async (t) => {
  const sim = await new DvcqgSimulator().start()
  t.teardown(() => sim.stop())
  const adapter = new DvcqgAdapter('dvcqg', cfg(sim.url))
  t.teardown(() => adapter.close())
  const list = await adapter.listProcedures()
  t.ok(list.ok)
  if (!list.ok) return
  t.same(list.procedures.map((p) => p.MaTTHC), ['1.003560.000.00.00.H56', '2.002621.H56', '1.010001.000.00.00.H56'])
  t.match(await adapter.procedure('2.002621.H56'), { ok: true, procedure: { MaTTHC: '2.002621.H56', MaLinhVuc: 'G17-TP01', CoPhiLePhi: false, SoNgayGiaiQuyet: 3 } })
  t.match(await adapter.procedure('1.003560.000.00.00.H56'), { ok: true, procedure: { CoPhiLePhi: true, SoNgayGiaiQuyet: 5 } })
  t.same(await adapter.procedure('9.999999'), { ok: true, procedure: undefined })
  t.match(await adapter.listAgencies(), { ok: true, agencies: [{ MaDonVi: '000.00.00.H56', CapDonVi: '1' }, { MaDonVi: '000.00.13.H56' }] })
  t.match(sim.calls, { LayDanhSachTTHC: 1, LayThuTuc: 3, LayDanhMucCoQuan: 1 })
})
