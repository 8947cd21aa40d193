import t from 'tap'
import { hoso, progress, startStack } from '../helpers.js'

t.test('control characters in text fields: stripped and reported where real software sends them, NUL refused', async (t) => {
  const s = await startStack(t)
  // A name pasted from Word: a vertical tab and a unit separator inside it.
  const pasted = hoso(1, { ChuHoSo: 'Nguyễn\u000b Thị\u001f Bình', TrichYeuHoSo: 'Dòng một\r\nDòng hai\tcột' })
  const ok = await s.post('onestop', '/v1/dossiers', pasted)
  t.equal(ok.statusCode, 202)
  t.match(ok.json().warnings, [{ code: 'LGSP_WARN_CONTROL_STRIPPED', path: '/ChuHoSo' }])
  t.notOk(ok.json().warnings.some((w: { path: string }) => w.path === '/TrichYeuHoSo'), 'tab and line breaks are text')
  const row = (await s.gateway.store.getDossier(pasted.MaHoSo))!.row
  t.equal(row.record.ChuHoSo, 'Nguyễn Thị Bình', 'stored and delivered without them')
  t.equal(row.record.TrichYeuHoSo, 'Dòng một\r\nDòng hai\tcột')

  const nul = await s.post('onestop', '/v1/dossiers', hoso(2, { ChuHoSo: 'Nguyễn\u0000Bình' }))
  t.equal(nul.statusCode, 422)
  t.equal(nul.json().code, 'LGSP_ERR_REQUEST_INVALID')
  t.same(nul.json().errors, [{ path: '/ChuHoSo', message: 'must not contain NUL (\\u0000)' }])
  t.equal(await s.gateway.store.getDossier(hoso(2).MaHoSo), undefined, 'nothing stored')

  const entry = await s.post('onestop', `/v1/dossiers/${pasted.MaHoSo}/progress`, { ...progress(pasted.MaHoSo, 60, 4), NoiDungXuLy: 'Chuyển\u0000xử lý' })
  t.equal(entry.statusCode, 422, 'NUL in a progress entry is refused too')
  t.equal((await s.gateway.store.getDossier(pasted.MaHoSo))!.row.state, 2, 'and changes nothing')
})
