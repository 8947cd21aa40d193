import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { Catalogue, bundledCatalogue } from '../gateway/catalogue.js'
import { hoso, startStack, tempDir, waitFor } from './helpers.js'

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
