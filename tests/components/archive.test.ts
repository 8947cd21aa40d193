/**
 * A new outside system is one folder and one line: the e-archive component lives only in
 * tests/components/archive/, is registered by the line below, and a dossier flows through it
 * end to end on both stores (its consumer, its effect, its producer), with its config section
 * validated by its own schema.
 */
import t from 'tap'
import { registerComponent } from '../../adapters/registry.js'
import { resolveConfig } from '../../gateway/config.js'
import { archive, ArchivePoller, referenceKey } from './archive/index.js'
import { ArchiveSimulator } from './archive/simulator.js'
import { at, hoso, members, startStack, testConfigDocument, testMemberList, waitFor } from '../helpers.js'
import { testRedis } from '../redis-server.js'

registerComponent(archive)

const archiveMember = { id: 'archive-sys', name: 'E-archive (test)', clientSecret: 'archive-sys-secret-000', messageKinds: ['progress'], destinations: ['dvcqg'], read: 'own' }

function withArchive (): Array<Record<string, unknown>> {
  return [
    ...testMemberList().map((m) => m.id === members.onestop.id ? { ...m, destinations: ['dvcqg', 'onestop', 'archive'], defaultDestinations: ['dvcqg', 'archive'] } : m),
    archiveMember
  ]
}

for (const store of ['sqlite', 'redis'] as const) {
  t.test(`${store}: a dossier goes to the test-only archive component, its reference is kept with the delivery, and its closure comes back through its poller to DVCQG`, async (t) => {
    const sim = await new ArchiveSimulator().start()
    t.teardown(() => sim.stop())
    const extra: Record<string, unknown> = {
      members: withArchive(),
      access: { rules: [{ member: archiveMember.id, kinds: ['progress'], allDossiers: true }] }
    }
    if (store === 'redis') extra.store = { kind: 'redis', redis: await testRedis(t) }
    const s = await startStack(t, { configExtra: extra, destinations: { archive: { adapter: 'archive', url: sim.url, member: archiveMember.id } } })
    t.equal(s.config.destinations.archive?.adapter, 'archive')
    t.match(s.config.destinations.archive, { intervalMs: 3_600_000 }, 'the component schema\'s default filled in')

    const record = hoso(901)
    const res = await s.post('onestop', '/v1/dossiers', record)
    t.equal(res.statusCode, 202, res.body)
    t.same((res.json() as { destinations: string[] }).destinations.sort(), ['archive', 'dvcqg'])
    await waitFor('filed at the archive and held by DVCQG', () => sim.filed.has(record.MaHoSo) && s.dvcqg.dossiers.has(record.MaHoSo))
    await waitFor('the archive reference recorded with the completion', async () => await s.gateway.store.getCursor(referenceKey('archive', record.MaHoSo)) === sim.filed.get(record.MaHoSo)!.ref)

    sim.close(record.MaHoSo, at(90))
    const poller = s.gateway.producers.all.find((p): p is ArchivePoller => p instanceof ArchivePoller)!
    t.equal(poller.destination, 'archive')
    t.equal(await poller.pollOnce(), 1, 'one closure brought in')
    t.equal(await poller.pollOnce(), 0, 'the cursor moved past it')
    t.equal((await s.gateway.store.getDossier(record.MaHoSo))?.row.state, 10, 'the ledger follows the archive')
    await waitFor('the closure reaches DVCQG', () => (s.dvcqg.dossiers.get(record.MaHoSo)?.progress.length ?? 0) === 1)
    t.equal(sim.filed.get(record.MaHoSo)!.times, 1, 'filed once: the archive member\'s own progress is never routed back to it')
  })
}

t.test('the component\'s config section is validated by its own schema and its own check, naming the key', async (t) => {
  const doc = testConfigDocument('/tmp/lgsp-archive-config', 'http://127.0.0.1:1', 'http://127.0.0.1:2')
  const bad = (section: Record<string, unknown>): string => {
    try {
      resolveConfig({ ...doc, members: withArchive(), destinations: { ...doc.destinations as object, archive: section } }, {})
      return 'accepted'
    } catch (err) {
      return (err as Error).message
    }
  }
  t.match(bad({ adapter: 'archive', url: 'http://127.0.0.1:3', member: archiveMember.id, colour: 'red' }), /destinations\.archive\.colour: unknown key/)
  t.match(bad({ adapter: 'archive', member: archiveMember.id }), /destinations\.archive\.url: required/)
  t.match(bad({ adapter: 'archive', url: 'http://127.0.0.1:3', member: 'nobody' }), /destinations\.archive\.member: "nobody" is not a member/)
  t.equal(bad({ adapter: 'archive', url: 'http://127.0.0.1:3', member: archiveMember.id }), 'accepted')
})
