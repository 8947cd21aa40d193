import t, { type Test } from 'tap'
import { TaxSimulator } from '../../adapters/tax/simulator.js'
import { formatDvcqgDate } from '../../gateway/ledger/dates.js'
import { hoso, startStack, testMemberList, waitFor, type Stack } from '../helpers.js'

const LAND = '1.004227.000.00.00.H56'
const land = (n: number): ReturnType<typeof hoso> => hoso(n, { MaTTHC: LAND, TenTTHC: 'Đăng ký, cấp giấy chứng nhận quyền sử dụng đất lần đầu', TrichYeuHoSo: 'Thửa đất số 125, tờ bản đồ 18' })
const PUSHER = { id: 'dvcqg-push', secret: 'dvcqg-push-secret-00' }
const NOTICE = '/v1/tax/ImportThongBaoThueFromDVCQG'
const RECEIPT = '/v1/tax/ImportChungTuThueFromDVCQG'

async function stackWithPush (t: Test, listen = false): Promise<{ s: Stack, tax: TaxSimulator }> {
  const tax = await new TaxSimulator().start()
  t.teardown(() => tax.stop())
  const s = await startStack(t, {
    listen,
    configExtra: { members: [...testMemberList(), { id: PUSHER.id, name: 'Cổng DVCQG (đẩy thông báo thuế)', clientSecret: PUSHER.secret, messageKinds: ['progress'], destinations: ['dvcqg', 'onestop'], defaultDestinations: ['dvcqg', 'onestop'], read: 'all' }] },
    destinations: { tax: { adapter: 'tax', url: tax.url, notices: { member: PUSHER.id }, timeouts: { connectMs: 300, headersMs: 600, bodyMs: 600 } } }
  })
  return { s, tax }
}

/** A notice as the tax office writes it: dd-MM-yyyy dates, decimal amounts, one LIST per line. */
const noticeXml = (maHoSo: string): string => `<?xml version="1.0" encoding="UTF-8"?>
<DATA>
  <HEADER><VERSION>1.0</VERSION><SENDER_CODE>TCT</SENDER_CODE></HEADER>
  <BODY>
    <ROW_LIST>
      <MA_HSO>${maHoSo}</MA_HSO>
      <LIST>
        <MA_SO_THUE>8012345678</MA_SO_THUE>
        <SO_QUYET_DINH>1205/TB-CCTKV</SO_QUYET_DINH>
        <NGAY_QUYET_DINH>05-02-2024</NGAY_QUYET_DINH>
        <TEN_TIEUMUC>Lệ phí trước bạ nhà đất</TEN_TIEUMUC>
        <SO_TIEN>2500000.00</SO_TIEN>
      </LIST>
      <LIST>
        <MA_SO_THUE>8012345678</MA_SO_THUE>
        <SO_QUYET_DINH>1205/TB-CCTKV</SO_QUYET_DINH>
        <NGAY_QUYET_DINH>05-02-2024</NGAY_QUYET_DINH>
        <TEN_TIEUMUC>Tiền sử dụng đất</TEN_TIEUMUC>
        <SO_TIEN>120,000,000.00</SO_TIEN>
      </LIST>
    </ROW_LIST>
  </BODY>
</DATA>`

const push = (xml: string, key = PUSHER.secret): Record<string, unknown> =>
  ({ SecurityKey: key, Service: 'ThongBaoThue', Ngay: '05022024', IsUpdating: 'False', Data: { FileThongBaoThue: Buffer.from(xml, 'utf8').toString('base64') } })

async function send (s: Stack, url: string, body: unknown, headers: Record<string, string> = {}): Promise<ReturnType<Stack['post']>> {
  return s.gateway.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) })
}

interface View { TrangThaiHoSo: number, record: { DanhSachLePhi: unknown[] }, history: Array<{ kind: string, to: number, sender: string }>, deliveries: Record<string, { units: Array<{ op: string }> }> }

t.test('a notice pushed as DVCQG does moves the dossier to 6 with its fee lines; DVCQG holds the progress entry and the one-stop the event; the same push again has one effect', async (t) => {
  const { s } = await stackWithPush(t)
  const record = land(1)
  t.equal((await s.post('onestop', '/v1/dossiers', record)).statusCode, 202)
  const res = await send(s, NOTICE, push(noticeXml(record.MaHoSo)))
  t.equal(res.statusCode, 201, res.body)
  t.match(res.json(), { succeeded: true, failed: false, message: new RegExp(`thành công với mã hồ sơ: ${record.MaHoSo.replace(/\./g, '\\.')}`), messages: [{ MaHoSo: record.MaHoSo, replayed: false }] })

  const view = (await s.get('onestop', `/v1/dossiers/${record.MaHoSo}`)).json() as View
  t.equal(view.TrangThaiHoSo, 6)
  t.match(view.record.DanhSachLePhi, [{ TenPhiLePhi: 'Lệ phí cấp đổi' }, { TenPhiLePhi: 'Lệ phí trước bạ nhà đất', MaPhiLePhi: '1205/TB-CCTKV', Gia: 2_500_000, LoaiPhiLePhi: 'Thuế' }, { TenPhiLePhi: 'Tiền sử dụng đất', Gia: 120_000_000 }])
  await waitFor('DVCQG has status 6', () => (s.dvcqg.dossiers.get(record.MaHoSo)?.progress ?? []).some((p) => p.TrangThai === '6'))
  t.match(s.dvcqg.dossiers.get(record.MaHoSo)!.progress.find((p) => p.TrangThai === '6'), { NoiDungXuLy: /Thông báo thuế 1205\/TB-CCTKV.*tổng 122\.500\.000 đồng/, PhongBanXuLy: 'Cơ quan thuế' })
  await waitFor('the one-stop got the notice', () => (s.onestop.events.get(record.MaHoSo) ?? []).some((e) => e.type === 'tax-notice'))
  t.match(s.onestop.events.get(record.MaHoSo)!.find((e) => e.type === 'tax-notice')!.data, { TrangThai: 6, total: 122_500_000, rows: [{ NGAY_QUYET_DINH: '20240205000000', SO_TIEN: 2_500_000 }, { SO_TIEN: 120_000_000 }] })

  const again = await send(s, NOTICE, push(noticeXml(record.MaHoSo)))
  t.equal(again.statusCode, 201)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.match(again.json(), { succeeded: true, messages: [{ replayed: true, messageId: res.json().messages[0].messageId }] })
  const after = (await s.get('onestop', `/v1/dossiers/${record.MaHoSo}`)).json() as View
  t.equal(after.history.filter((e) => e.kind === 'tax-notice').length, 1, 'one notice in the history')
  t.equal(after.record.DanhSachLePhi.length, 3, 'the fee lines once')
  t.equal(after.deliveries.dvcqg!.units.length, 2, 'DVCQG: the dossier and one progress entry')
  t.equal(after.history.at(-1)!.sender, PUSHER.id, 'attributed to the pusher')
})

t.test('a tax receipt (ChungTuThue) is recorded in the dossier\'s history without moving its status; repeated, it has one effect', async (t) => {
  const { s } = await stackWithPush(t)
  const record = land(2)
  await s.post('onestop', '/v1/dossiers', record)
  t.equal((await send(s, NOTICE, push(noticeXml(record.MaHoSo)))).statusCode, 201)
  const receipt = {
    SecurityKey: PUSHER.secret, Service: 'ChungTuThue', IsUpdating: 'False',
    Data: {
      MaHoSo: record.MaHoSo, MaSoThue: '8012345678', UrlFileChungTu: 'https://thuedientu.gdt.gov.vn/ct/123.pdf', HoTenNguoiNopTien: 'Nguyễn Thị Bình', SoCMTNguoiNopTien: '079203001234',
      TinhNguoiNopTien: '56', HuyenNguoiNopTien: '568', XaNguoiNopTien: '22366', DiaChiNguoiNopTien: 'Nha Trang',
      ThongTinThanhToan: { NoiDungThanhToan: 'Nộp lệ phí trước bạ', ThoiGianThanhToan: formatDvcqgDate(Date.now() + 60_000), MaThongBaoThue: '1205/TB-CCTKV', TrangThaiThanhToan: 1, SoTien: 122500000 }
    }
  }
  const res = await send(s, RECEIPT, receipt)
  t.equal(res.statusCode, 201, res.body)
  t.match(res.json(), { succeeded: true, message: /Chứng từ thuế/ })
  const view = (await s.get('onestop', `/v1/dossiers/${record.MaHoSo}`)).json() as View
  t.equal(view.TrangThaiHoSo, 6, 'the status stays: the agency decides what follows payment')
  t.match(view.history.at(-1), { kind: 'progress', to: 6, sender: PUSHER.id })
  await waitFor('DVCQG has the receipt entry', () => (s.dvcqg.dossiers.get(record.MaHoSo)?.progress ?? []).some((p) => /Chứng từ thuế.*đã nộp 122\.500\.000 đồng/.test(String(p.NoiDungXuLy))))
  const again = await send(s, RECEIPT, receipt)
  t.equal(again.statusCode, 201)
  t.equal(again.headers['idempotent-replayed'], 'true')
  const after = (await s.get('onestop', `/v1/dossiers/${record.MaHoSo}`)).json() as View
  t.equal(after.history.length, view.history.length, 'nothing added by the repeat')
  t.notMatch(s.logs.join(''), new RegExp(PUSHER.secret), 'the SecurityKey is never logged')
  t.notMatch(s.logs.join(''), /079203001234/, 'nor the payer\'s identity number')
  t.equal((await send(s, RECEIPT, { ...receipt, Data: { ...receipt.Data, MaHoSo: '000.00.01.H56-240201-9999' } })).json().code, 'LGSP_ERR_DOSSIER_NOT_FOUND')
})

t.test('hostile or broken pushes are refused with stable codes and change nothing', async (t) => {
  const { s } = await stackWithPush(t)
  const record = land(3)
  await s.post('onestop', '/v1/dossiers', record)
  const refused = async (body: unknown, status: number, code: string, headers: Record<string, string> = {}): Promise<void> => {
    const res = await send(s, NOTICE, body, headers)
    t.equal(res.statusCode, status, code)
    t.match(res.headers['content-type'], /application\/problem\+json/)
    t.match(res.json(), { code, succeeded: false, failed: true, message: String })
  }
  const ok = noticeXml(record.MaHoSo)
  await refused(push(`<?xml version="1.0"?><!DOCTYPE DATA [<!ENTITY x SYSTEM "file:///etc/passwd">]><DATA><BODY><ROW_LIST><MA_HSO>&x;</MA_HSO></ROW_LIST></BODY></DATA>`), 400, 'LGSP_ERR_XML_DOCTYPE')
  await refused(push(`<DATA>${'<a>'.repeat(40)}${'</a>'.repeat(40)}</DATA>`), 400, 'LGSP_ERR_XML_TOO_DEEP')
  await refused(push('<DATA><BODY><ROW_LIST>'), 400, 'LGSP_ERR_XML_MALFORMED')
  await refused(push('<NOTICE/>'), 400, 'LGSP_ERR_XML_NAMESPACE')
  await refused({ ...push(ok), Data: { FileThongBaoThue: 'this is *not* base64!' } }, 400, 'LGSP_ERR_TAX_NOTICE_ENCODING')
  await refused({ ...push(ok), Data: {} }, 400, 'LGSP_ERR_TAX_NOTICE_ENCODING')
  await refused(push(ok.replace('2500000.00', '2500000.50')), 422, 'LGSP_ERR_TAX_NOTICE_INVALID')
  await refused(push(ok.replace('2500000.00', 'hai triệu')), 422, 'LGSP_ERR_TAX_NOTICE_INVALID')
  await refused(push(ok.replace(/05-02-2024/g, '30-02-2024')), 422, 'LGSP_ERR_TAX_NOTICE_INVALID')
  await refused(push(noticeXml('000.00.01.H56-240201-9999')), 404, 'LGSP_ERR_DOSSIER_NOT_FOUND')
  await refused(push(ok, 'wrong-key'), 401, 'LGSP_ERR_AUTH_INVALID_CLIENT')
  await refused({ ...push(ok), SecurityKey: undefined }, 401, 'LGSP_ERR_AUTH_MISSING_TOKEN')
  // A member that is not the tax destinations' notices.member may not push, even with a valid token.
  await refused(push(ok, ''), 403, 'LGSP_ERR_AUTH_KIND_FORBIDDEN', { authorization: `Bearer ${await s.token('onestop')}` })
  const view = (await s.get('onestop', `/v1/dossiers/${record.MaHoSo}`)).json() as View
  t.equal(view.TrangThaiHoSo, 2, 'nothing changed')
  t.equal(view.history.length, 1)
  // The pusher's own bearer token works as well as its SecurityKey.
  const token = (await s.gateway.app.inject({ method: 'POST', url: '/token', headers: { authorization: `Basic ${Buffer.from(`${PUSHER.id}:${PUSHER.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' })).json().access_token as string
  t.equal((await send(s, NOTICE, push(ok, ''), { authorization: `Bearer ${token}` })).statusCode, 201)
})

t.test('the tax simulator pushes the real way to a listening gateway, and answers GET /_sim/state', async (t) => {
  const { s, tax } = await stackWithPush(t, true)
  const record = land(4)
  await s.post('onestop', '/v1/dossiers', record)
  tax.pushTarget = { url: s.gateway.url, securityKey: PUSHER.secret }
  const p = await tax.pushNotice([{ MA_HSO: record.MaHoSo, MA_SO_THUE: '8012345678', SO_QUYET_DINH: '77/TB', NGAY_QUYET_DINH: '20240207', TEN_TIEUMUC: 'Thuế thu nhập cá nhân', SO_TIEN: 3_000_000 }])
  t.match(p, { kind: 'notice', status: 201, body: { succeeded: true } })
  const viaHttp = await fetch(`http://127.0.0.1:${tax.port}/_sim/push`, { method: 'POST', body: JSON.stringify({ MaHoSo: record.MaHoSo, SO_QUYET_DINH: '78/TB', lines: [{ TEN_TIEUMUC: 'Lệ phí trước bạ', SO_TIEN: 500_000 }] }) })
  t.match(await viaHttp.json(), { status: 201 })
  const state = await fetch(`http://127.0.0.1:${tax.port}/_sim/state`)
  t.equal(state.status, 200)
  t.match(await state.json(), { pushes: [{ kind: 'notice', status: 201 }, { kind: 'notice', status: 201 }] })
  const view = (await s.get('onestop', `/v1/dossiers/${record.MaHoSo}`)).json() as View
  t.equal(view.TrangThaiHoSo, 6)
  t.equal(view.history.filter((e) => e.kind === 'tax-notice').length, 2, 'two notices, two decisions')
})
