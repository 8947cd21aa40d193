import t from 'tap'
import { OnestopAdapter } from '../../adapters/onestop/index.js'
import { OnestopSimulator } from '../../adapters/onestop/simulator.js'
import type { DeliveryUnit } from '../../adapters/registry.js'
import type { OnestopDestination } from '../../schemas/types.js'
import { hoso } from '../helpers.js'

const cfg = (url: string, token = 'onestop-dev-webhook-key'): OnestopDestination => ({
  adapter: 'onestop', url, token, webhookPath: '/lgsp/webhook', concurrency: 2, timeouts: { connectMs: 300, headersMs: 300, bodyMs: 300 }
})

function unitOf (adapter: OnestopAdapter, n: number): DeliveryUnit {
  const [plan] = adapter.units({ kind: 'dossier', messageId: `m${n}`, sender: 'gplx', record: hoso(n), existed: false })
  return { id: n, maHoSo: hoso(n).MaHoSo, messageId: `m${n}`, op: plan!.op, payload: plan!.payload, attempts: 1, uncertain: false }
}

t.test('each one-stop failure mode maps to its code', async (t) => {
  const sim = await new OnestopSimulator().start()
  t.teardown(() => sim.stop())
  const adapter = new OnestopAdapter('onestop', cfg(sim.url))
  t.teardown(() => adapter.close())
  t.match(await adapter.deliver(unitOf(adapter, 1)), { ok: true })

  const wrongKey = new OnestopAdapter('onestop', cfg(sim.url, 'not-the-webhook-key'))
  t.match(await wrongKey.deliver(unitOf(wrongKey, 2)), { ok: false, code: 'LGSP_ERR_UPSTREAM_CREDENTIALS', uncertain: false, pause: { fix: /destinations\.onestop\.token \(LGSP_DEST_ONESTOP_TOKEN\)/ } }, 'a 401 pauses the destination (the key, not the event)')
  await wrongKey.close()

  sim.server.setFaults({ mode: 'error' })
  t.match(await adapter.deliver(unitOf(adapter, 3)), { ok: false, code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE' }, 'a 503 is retried')
  sim.server.setFaults({ mode: 'hang' })
  t.match(await adapter.deliver(unitOf(adapter, 4)), { ok: false, code: 'LGSP_ERR_UPSTREAM_TIMEOUT', uncertain: true })
  sim.server.setFaults({ mode: 'drop' })
  t.match(await adapter.deliver(unitOf(adapter, 5)), { ok: false, code: 'LGSP_ERR_UPSTREAM_NETWORK', uncertain: true })
  sim.server.setFaults({ mode: 'none' })

  // The dropped event was applied; its redelivery is recognised by its Idempotency-Key.
  t.match(await adapter.deliver(unitOf(adapter, 5)), { ok: true })
  t.equal(sim.duplicates, 1)
  t.equal(sim.events.get(hoso(5).MaHoSo)?.length, 1, 'applied once')
  await sim.stop()
  t.match(await adapter.deliver(unitOf(adapter, 6)), { ok: false, code: 'LGSP_ERR_UPSTREAM_NETWORK', uncertain: false }, 'refused connection')
})
