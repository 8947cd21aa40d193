import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { Catalogue, bundledCatalogue } from '../gateway/catalogue.js'
import { CatalogueSync, catalogueSyncSettings } from '../gateway/catalogue-sync.js'
import { resolveConfig } from '../gateway/config.js'
import { AdapterRegistry } from '../adapters/registry.js'
import { DvcqgSimulator } from '../adapters/dvcqg/simulator.js'
import { createLogger } from '../gateway/logger.js'
import { hoso, startStack, tempDir, testConfigDocument, waitFor } from './helpers.js'

t.test('the bundled catalogue loads and answers by MaTTHC', async (t) => {
  const c = Catalogue.load(bundledCatalogue)
  t.match(c.get('1.003560.000.00.00.H56'), { CoPhiLePhi: true, SoNgayGiaiQuyet: 5, HeThongLienThong: ['gplx'] })
  t.equal(c.get('9.999999.000.00.00.H56'), undefined)
  t.same(c.unroutedSystems(['dvcqg', 'gplx']), ['tax'])
})

t.test('an invalid catalogue stops start-up with a message that says what to fix', async (t) => {
  const dir = tempDir(t)
  const write = (name: string, doc: unknown): string => { const p = join(dir, name); writeFileSync(p, JSON.stringify(doc)); return p }
  const proc = { MaTTHC: '1.000001', TenTTHC: 'x', MaLinhVuc: 'L', CapThucHien: 'xa', CoPhiLePhi: false, SoNgayGiaiQuyet: 1, KetQuaBanGiay: false, HeThongLienThong: [] }
  t.throws(() => Catalogue.load(join(dir, 'missing.json')), { code: 'LGSP_ERR_CONFIG_INVALID', message: /Cannot read the procedure catalogue/ })
  t.throws(() => Catalogue.load(write('a.json', { version: '1', procedures: [{ ...proc, SoNgayGiaiQuyet: -1 }] })), { code: 'LGSP_ERR_CONFIG_INVALID', message: /SoNgayGiaiQuyet/ })
  t.throws(() => Catalogue.load(write('b.json', { version: '1', procedures: [proc, proc] })), { code: 'LGSP_ERR_CONFIG_INVALID', message: /appears twice/ })
  t.throws(() => Catalogue.load(write('c.json', { procedures: [proc] })), { code: 'LGSP_ERR_CONFIG_INVALID', message: /version/ })
})

t.test('a dossier also goes to the vertical systems of its procedure, when configured', async (t) => {
  // A stand-in "gplx" destination (the webhook adapter) shows the routing by procedure.
  const s = await startStack(t, {
    configExtra: {
      destinations: {
        dvcqg: { adapter: 'dvcqg', url: 'http://127.0.0.1:9', username: 'u', password: 'p', madonvi: 'x' },
        onestop: { adapter: 'onestop', url: 'http://127.0.0.1:9', token: 'onestop-test-key' },
        gplx: { adapter: 'onestop', url: 'http://127.0.0.1:9', token: 'gplx-test-key' }
      }
    }
  })
  t.match(s.logs.join(''), /"systems":\["tax"\]/, 'the unconfigured system is reported at start-up')
  const licence = await s.post('onestop', '/v1/dossiers', hoso(1))
  t.same(licence.json().destinations, ['dvcqg', 'gplx'])
  const birth = await s.post('onestop', '/v1/dossiers', hoso(2, { MaTTHC: '1.001193.000.00.00.H56', TenTTHC: 'Đăng ký khai sinh' }))
  t.same(birth.json().destinations, ['dvcqg'], 'a procedure without vertical systems')
  const batch = await s.post('onestop', '/v1/dossiers', [hoso(3), hoso(4, { MaTTHC: '1.001193.000.00.00.H56' })])
  t.same(batch.json().destinations, ['dvcqg', 'gplx'])
  await waitFor('units queued', async () => {
    const view = (await s.get('onestop', `/v1/dossiers/${hoso(4).MaHoSo}`)).json() as { deliveries: Record<string, unknown> }
    return Object.keys(view.deliveries).length > 0
  })
  const v3 = (await s.get('onestop', `/v1/dossiers/${hoso(3).MaHoSo}`)).json() as { deliveries: Record<string, unknown> }
  const v4 = (await s.get('onestop', `/v1/dossiers/${hoso(4).MaHoSo}`)).json() as { deliveries: Record<string, unknown> }
  t.same(Object.keys(v3.deliveries).sort(), ['dvcqg', 'gplx'])
  t.same(Object.keys(v4.deliveries), ['dvcqg'], 'routing is per dossier within a batch')
})

t.test('procedures learnt from DVCQG refresh the bundled ones (routing kept) and join once their duration is known', async (t) => {
  const c = Catalogue.load(bundledCatalogue)
  const bundledCount = c.procedures.length
  t.equal(c.learn([
    { MaTTHC: '1.003560.000.00.00.H56', TenTTHC: 'Cấp đổi GPLX (tên DVCQG)', SoNgayGiaiQuyet: 7 },
    { MaTTHC: '2.002621.H56', TenTTHC: 'Xác nhận thông tin hộ tịch', MaLinhVuc: 'G17-TP01', SoNgayGiaiQuyet: 3 },
    { MaTTHC: '1.010001.000.00.00.H56', TenTTHC: 'Chưa rõ thời hạn', CoPhiLePhi: true }
  ]), 3)
  t.match(c.get('1.003560.000.00.00.H56'), { TenTTHC: 'Cấp đổi GPLX (tên DVCQG)', SoNgayGiaiQuyet: 7, CoPhiLePhi: true, MaLinhVuc: 'G13-GT01', HeThongLienThong: ['gplx'] }, 'DVCQG refreshes; the routing stays')
  t.same(c.get('2.002621.H56'), { MaTTHC: '2.002621.H56', TenTTHC: 'Xác nhận thông tin hộ tịch', MaLinhVuc: 'G17-TP01', CapThucHien: 'tinh', CoPhiLePhi: false, SoNgayGiaiQuyet: 3, KetQuaBanGiay: false, HeThongLienThong: [] }, 'the short MaTTHC form, with defaults for what DVCQG did not say')
  t.equal(c.get('1.010001.000.00.00.H56'), undefined, 'not served without a statutory duration')
  t.equal(c.learnt.length, 3)
  t.equal(c.procedures.length, bundledCount + 1)
  t.equal(c.learn([{ MaTTHC: '2.002621.H56', TenTTHC: 'Xác nhận thông tin hộ tịch' }]), 0, 'a later list without detail erases nothing')
  t.equal(c.get('2.002621.H56')?.SoNgayGiaiQuyet, 3)

  const dir = tempDir(t)
  const path = join(dir, 'catalogue-dvcqg.json')
  c.learnAgencies([{ MaDonVi: '000.00.13.H56', TenDonVi: 'Sở GTVT', CapDonVi: '2' }])
  c.saveSnapshot(path)
  const fresh = Catalogue.load(bundledCatalogue)
  t.equal(fresh.loadSnapshot(path), true)
  t.same(fresh.get('2.002621.H56'), c.get('2.002621.H56'), 'a restart remembers what was learnt')
  t.same(fresh.agencies, [{ MaDonVi: '000.00.13.H56', TenDonVi: 'Sở GTVT', CapDonVi: '2' }])
  t.equal(fresh.loadSnapshot(path), false, 'an unchanged snapshot is not read again')
  writeFileSync(path, '{"procedures": 1}')
  t.throws(() => Catalogue.load(bundledCatalogue).loadSnapshot(path), { code: 'LGSP_ERR_CONFIG_INVALID', message: /delete it/ })
})

t.test('the catalogue-sync job feeds DVCQG\'s catalogue to the gateway and a restart keeps it', async (t) => {
  const dir = tempDir(t)
  const snapshotPath = join(dir, 'catalogue-dvcqg.json')
  const s = await startStack(t, { configExtra: { catalogueSync: { enabled: true, intervalMs: 3_600_000, snapshotPath } } })
  const sync = s.gateway.catalogueSync!
  t.ok(sync, 'on when enabled')
  await waitFor('first pass at start-up', () => sync.last !== undefined)
  t.match(sync.last, { listed: 3, detailed: 3, agencies: 2 })
  t.match(s.dvcqg.calls, { LayDanhSachTTHC: 1, LayThuTuc: 3, LayDanhMucCoQuan: 1 })
  const c = s.gateway.catalogue
  t.match(c.get('2.002621.H56'), { MaLinhVuc: 'G17-TP01', SoNgayGiaiQuyet: 3, CoPhiLePhi: false })
  t.match(c.get('1.003560.000.00.00.H56'), { SoNgayGiaiQuyet: 5, CoPhiLePhi: true, HeThongLienThong: ['gplx'] })
  t.equal(c.get('1.010001.000.00.00.H56'), undefined, 'the simulator gives no duration for this one')
  t.match(c.learnt.find((p) => p.MaTTHC === '1.010001.000.00.00.H56'), { CoPhiLePhi: true, detailedAt: Number })
  t.same(c.agencies.map((a) => a.MaDonVi), ['000.00.00.H56', '000.00.13.H56'])
  t.match(await sync.syncOnce(), { detailed: 0, changed: 0 }, 'each procedure is described once')

  const again = await startStack(t, { configExtra: { catalogueSync: { enabled: false, snapshotPath } } })
  t.equal(again.gateway.catalogueSync, undefined)
  t.match(again.gateway.catalogue.get('2.002621.H56'), { SoNgayGiaiQuyet: 3 }, 'read from the snapshot at start-up')
  t.equal(again.dvcqg.calls.LayDanhSachTTHC, undefined, 'without calling DVCQG')
})

t.test('on a shared store one instance syncs the catalogue; the other reads its snapshot', async (t) => {
  const dir = tempDir(t)
  const snapshotPath = join(dir, 'catalogue-dvcqg.json')
  const sim = await new DvcqgSimulator().start()
  t.teardown(() => sim.stop())
  const cfg = { adapter: 'dvcqg' as const, url: sim.url, username: 'lgsp', password: 'dvcqg-dev-password', madonvi: '000.00.00.H56', concurrency: 2, authPath: '/api/auth', integrationPath: '/api/integration', progressChunk: 10, sessionRenewMs: 600_000, statusSync: false, timeouts: { connectMs: 500, headersMs: 500, bodyMs: 500 } }
  const adapters = await AdapterRegistry.create({ dvcqg: cfg })
  t.teardown(() => adapters.close())
  const settings = { destination: 'dvcqg', intervalMs: 3_600_000, details: 10, snapshotPath }
  const holder = { lease: async () => true }
  const other = { lease: async () => false }
  const a = new CatalogueSync(Catalogue.load(), adapters, settings, holder, createLogger('silent'))
  const catalogueB = Catalogue.load()
  const b = new CatalogueSync(catalogueB, adapters, settings, other, createLogger('silent'))
  a.start()
  await waitFor('the lease holder synced', () => a.last !== undefined)
  b.start()
  await waitFor('the other read the snapshot', () => catalogueB.get('2.002621.H56') !== undefined)
  await Promise.all([a.stop(), b.stop()])
  t.equal(sim.calls.LayDanhSachTTHC, 1, 'DVCQG was read by one instance only')
  t.equal(b.last, undefined)
})

t.test('catalogueSync is off by default and names a DVCQG destination when on', async (t) => {
  const dir = tempDir(t)
  const doc = testConfigDocument(dir, 'http://127.0.0.1:9', 'http://127.0.0.1:9')
  t.equal(catalogueSyncSettings(resolveConfig(doc, {})), undefined, 'off unless enabled')
  t.match(catalogueSyncSettings(resolveConfig({ ...doc, catalogueSync: { enabled: true } }, {})), { destination: 'dvcqg', intervalMs: 21_600_000, details: 50, snapshotPath: join(dir, 'catalogue-dvcqg.json') }, 'the first DVCQG destination, the snapshot beside the store')
  t.throws(() => catalogueSyncSettings(resolveConfig({ ...doc, catalogueSync: { enabled: true, destination: 'onestop' } }, {})), { code: 'LGSP_ERR_CONFIG_INVALID', message: /adapter dvcqg/ })
})

t.test('a short MaTTHC as real one-stops send it finds the catalogue entry', async (t) => {
  const c = Catalogue.load()
  const long = c.get('1.003560.000.00.00.H56')
  t.ok(long)
  t.equal(c.get('1.003560.H56'), long, 'national number and province suffix')
  t.equal(c.get('1.003560'), long, 'national number alone')
  t.equal(c.get('9.999999.H56'), undefined, 'an unknown number stays unknown')
})
