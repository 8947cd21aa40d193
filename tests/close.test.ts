/**
 * app.close() is the one way to stop a gateway: the store, the worker pools, the delivery
 * workers, the pollers and every timer are closed by the app's onClose hook, so a process
 * (or a test) that closes the app has nothing left running.
 */
import { Writable } from 'node:stream'
import t from 'tap'
import { DvcqgSimulator } from '../adapters/dvcqg/simulator.js'
import { GplxSimulator } from '../adapters/gplx/simulator.js'
import { OnestopSimulator } from '../adapters/onestop/simulator.js'
import { PaygovSimulator } from '../adapters/paygov/simulator.js'
import { TaxSimulator } from '../adapters/tax/simulator.js'
import { resolveConfig } from '../gateway/config.js'
import { startGateway } from '../gateway/server.js'
import { hoso, tempDir, testConfigDocument, tokenFrom, waitFor } from './helpers.js'

/** Active handles and requests by type (timers, sockets, servers, workers…). */
function resources (): Map<string, number> {
  const out = new Map<string, number>()
  for (const r of process.getActiveResourcesInfo()) out.set(r, (out.get(r) ?? 0) + 1)
  return out
}

/** What is running now that was not before, by type. */
function leftOver (before: Map<string, number>): string[] {
  return [...resources()].filter(([type, n]) => n > (before.get(type) ?? 0)).map(([type, n]) => `${type} ×${n - (before.get(type) ?? 0)}`)
}

t.test('app.close() leaves no timer, socket, server or worker running, with delivery and pollers on', async (t) => {
  const dir = tempDir(t)
  const dvcqg = await new DvcqgSimulator().start()
  const onestop = await new OnestopSimulator().start()
  const paygov = await new PaygovSimulator().start()
  const gplx = await new GplxSimulator().start()
  const tax = await new TaxSimulator().start()
  t.teardown(async () => { await Promise.all([dvcqg.stop(), onestop.stop(), paygov.stop(), gplx.stop(), tax.stop()]) })
  const doc = testConfigDocument(dir, dvcqg.url, onestop.url, {
    reconcile: { agency: '000.00.01.H56', intervalMs: 3_600_000 }
  }, paygov)
  doc.destinations = {
    ...doc.destinations as object,
    gplx: { adapter: 'gplx', url: gplx.url, username: gplx.username, password: gplx.password, donViXuLy: 'SGTVT-H56', poll: { member: 'gplx-test', intervalMs: 100 }, timeouts: { connectMs: 300, headersMs: 500, bodyMs: 500 } },
    tax: { adapter: 'tax', url: tax.url, notices: { member: 'gplx-test', poll: true, intervalMs: 100 }, timeouts: { connectMs: 300, headersMs: 600, bodyMs: 600 } }
  }
  const config = resolveConfig(doc, {})
  const sink = new Writable({ write (_chunk, _enc, cb) { cb() } })

  const before = resources()
  const gateway = await startGateway(config, { logStream: sink, listen: true })
  let closed = false
  t.teardown(async () => { if (!closed) await gateway.close() })
  t.ok(gateway.delivery !== undefined && gateway.producers.all.map((p) => p.destination).sort().join() === 'gplx,tax', 'delivery, the GPLX poller and the tax notice poller run')

  // Resources at work: a request over a socket, a delivery, the pollers' and jobs' timers.
  const token = await tokenFrom(gateway.url)
  const res = await fetch(`${gateway.url}/v1/dossiers`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(hoso(1)) })
  t.equal(res.status, 202)
  await res.arrayBuffer()
  await waitFor('delivered to DVCQG', () => dvcqg.dossiers.has(hoso(1).MaHoSo))
  t.not(leftOver(before).length, 0, 'the running gateway holds resources (the check can fail)')

  await gateway.app.close()
  closed = true
  let still: string[] = []
  await waitFor('nothing left running', () => { still = leftOver(before); return still.length === 0 }, 10_000)
    .catch(() => undefined)
  t.same(still, [], 'nothing the gateway opened is still running')
})
