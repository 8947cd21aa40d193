import { createHash } from 'node:crypto'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { PaygovClient, amountOf, paymentUrlOf, receiptOf, sign, type InitRequest, type PaygovSettings } from '../../adapters/paygov/index.js'
import { PaygovSimulator } from '../../adapters/paygov/simulator.js'
import { SimServer } from '../../adapters/simulator-kit.js'

/** SHA-256 over fields joined by "|" with the secret last, written out from the protocol document. */
const vector = (values: string[], secret: string): string => createHash('sha256').update([...values, secret].join('|')).digest('hex')

async function simulator (t: Test, bearerToken?: string): Promise<PaygovSimulator> {
  const sim = await new PaygovSimulator(bearerToken === undefined ? {} : { bearerToken }).start()
  t.teardown(() => sim.stop())
  return sim
}

function client (t: Test, sim: PaygovSimulator, over: Partial<PaygovSettings> = {}): PaygovClient {
  const c = new PaygovClient({
    url: sim.url, initPath: sim.initPath, queryPath: sim.queryPath, partnerCode: sim.partnerCode, secret: sim.secret, currency: 'VND',
    timeouts: { connectMs: 500, headersMs: 1000, bodyMs: 1000 }, ...over
  })
  t.teardown(() => c.close())
  return c
}

const fees = [{ TenPhiLePhi: 'Lệ phí đăng ký khai sinh', MaPhiLePhi: 'HT01', Gia: 8000 }, { TenPhiLePhi: 'Phí cấp bản sao', Gia: 0 }]

const initRequest = (reference: string, time = '20241122083000'): InitRequest => ({
  reference,
  amount: 8000,
  description: 'Thanh toán lệ phí hồ sơ 000.00.07.H56-241122-0001',
  bank: 'PAYMENT',
  language: 'vi-VN',
  time,
  ip: '127.0.0.1',
  receipt: receiptOf({
    serviceCode: '2', maHoSo: '000.00.07.H56-241122-0001', maTTHC: '2.000986.000.00.00.H56', maDonVi: '000.00.07.H56', description: 'Lệ phí hộ tịch', fees,
    beneficiary: { TKThuHuong: '3511.0.1052347', MaNHThuHuong: 'KBNN-H56', TenTKThuHuong: 'UBND phường 3' },
    names: { TenTTHC: `Đăng ký khai sinh ${'rất dài '.repeat(60)}`, HoTenNguoiNop: 'Phạm Thu Hà' }
  })
})

t.test('amounts: whole VND as a number or a plainly written string, nothing else', async (t) => {
  for (const v of [0, 135000, '0', '135000', '0135000']) t.type(amountOf(v), 'number', `${JSON.stringify(v)} is an amount`)
  t.equal(amountOf('135000'), 135000)
  for (const v of ['', ' 1', '1.5', '-1', '1e5', 1.5, -1, null, undefined, '１２']) t.equal(amountOf(v), undefined, `${JSON.stringify(v)} is not`)
})

t.test('the INIT reply\'s message is a JSON string (as PayGov sends it) or an object; anything else has no URL', async (t) => {
  const url = 'https://paygov.example/pay/ABC'
  t.equal(paymentUrlOf({ error_code: '0', message: JSON.stringify({ MaThamChieu: 'ABC', UrlThanhToan: url }) }), url)
  t.equal(paymentUrlOf({ error_code: 0, message: { UrlThanhToan: url } }), url, 'an object message is taken too')
  t.equal(paymentUrlOf({ error_code: '01', message: JSON.stringify({ UrlThanhToan: url }) }), undefined, 'not on an error code')
  t.equal(paymentUrlOf({ error_code: '0', message: 'Thành công' }), undefined, 'not from text')
  t.equal(paymentUrlOf({ error_code: '0', message: '{"UrlThanhToan": ""}' }), undefined, 'not an empty URL')
  t.equal(paymentUrlOf(null), undefined)
})

t.test('the receipt block: every key partners send, amounts as strings, payable items for what is due, long names cut', async (t) => {
  const r = initRequest('R1').receipt
  t.match(r, { MaDichVu: '2', MaTTHC: '2.000986.000.00.00.H56', MaDonVi: '000.00.07.H56', MaHoSo: '000.00.07.H56-241122-0001', TKThuHuong: '3511.0.1052347', MaNHThuHuong: 'KBNN-H56', TenTKThuHuong: 'UBND phường 3', NoiDungThanhToan: 'Lệ phí hộ tịch', HoTenNguoiNop: 'Phạm Thu Hà', SoCMNDNguoiNop: '', KhoBac: '', SoQD: '' })
  t.same(r.PhiLePhi, [{ LoaiPhiLePhi: '', MaPhiLePhi: 'HT01', TenPhiLePhi: 'Lệ phí đăng ký khai sinh', SoTien: '8000' }, { LoaiPhiLePhi: '', MaPhiLePhi: '', TenPhiLePhi: 'Phí cấp bản sao', SoTien: '0' }])
  t.same(r.DSKhoanNop, [{ NoiDung: 'Lệ phí đăng ký khai sinh', SoTien: '8000' }])
  t.equal(r.TenTTHC.length, 250, 'a catalogue name is cut to 250 characters')
  t.equal(r.TenDVC, r.TenTTHC, 'the service name defaults to the procedure\'s')
  t.same(receiptOf({ serviceCode: '2', maHoSo: 'X', maTTHC: 'Y', maDonVi: 'Z', description: 'd', fees: [], names: {} }).TKThuHuong, '', 'no beneficiary configured: sent empty')
})

t.test('INIT and QUERY against the simulator, with the bearer token it asks for', async (t) => {
  const sim = await simulator(t, 'paygov-access-token-0001')
  const c = client(t, sim, { bearerToken: 'paygov-access-token-0001' })
  const init = await c.init(initRequest('REF-BEARER'))
  t.same(init, { ok: true, url: `${sim.url}/pay/REF-BEARER` })
  const got = sim.received.at(-1)!
  t.equal(got.authorization, 'Bearer paygov-access-token-0001')
  t.match(got.body, { SoTien: '8000', NgonNgu: 'vi-VN', MaNganHang: 'PAYMENT', ThongTinBienLai: { DSKhoanNop: [{ SoTien: '8000' }] } })
  t.equal(got.body.MaXacThuc, vector(['INIT', '1.0.6', sim.partnerCode, 'REF-BEARER', '8000', 'PAY', '1', '1', 'vi-VN', 'VND', 'PAYMENT', 'Thanh toán lệ phí hồ sơ 000.00.07.H56-241122-0001', '20241122083000', '127.0.0.1'], sim.secret))

  const without = client(t, sim)
  t.match(await without.init(initRequest('REF-NO-TOKEN')), { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED' }, 'without the token PayGov refuses')
  t.equal(sim.received.at(-1)!.authorization, undefined, 'and no Authorization header was sent')
  t.notOk(sim.transactions.has('REF-NO-TOKEN'))

  t.match(await c.query('REF-BEARER', '20241122083000'), { ok: true, answer: { state: '3' } }, 'pending until the payer acts')
  sim.misbehaviour = { ...sim.misbehaviour, dropRate: 1 }
  sim.pay('REF-BEARER', true)
  t.match(await c.query('REF-BEARER', '20241122083000'), { ok: true, answer: { state: '1', amount: 8000, transactionCode: /^PG/ } })
  t.equal(sim.received.at(-1)!.authorization, 'Bearer paygov-access-token-0001', 'QUERY carries the token too')
  t.match(await c.query('REF-BEARER', '20241122090000'), { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED' }, 'another ThoiGianGD finds no transaction')
  sim.queryFault = 'error-code'
  t.match(await c.query('REF-BEARER', '20241122083000'), { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED', message: 'QUERY MaLoi 99' }, 'a signed reply whose MaLoi is not 00 is not believed')
  sim.queryFault = 'forged'
  t.match(await c.query('REF-BEARER', '20241122083000'), { ok: false, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY' }, 'a reply with a wrong checksum is not believed')
})

t.test('the simulator checks INIT as PayGov does: SoTien a string, checksum over the strings', async (t) => {
  const sim = await simulator(t)
  const c = client(t, sim)
  t.match(await c.init(initRequest('REF-OK')), { ok: true })
  const { MaXacThuc: _, ThongTinBienLai, ...fields } = sim.received.at(-1)!.body
  const post = async (body: Record<string, unknown>): Promise<unknown> => {
    const res = await request(`${sim.url}${sim.initPath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return res.body.json()
  }
  t.match(await post({ ...sign('INIT', { ...fields, MaThamChieu: 'REF-NUM', SoTien: 8000 }, sim.secret), ThongTinBienLai }), { error_code: '02' }, 'a numeric SoTien is refused')
  t.match(await post({ ...sign('INIT', { ...fields, MaThamChieu: 'REF-BAD' }, 'another-secret'), ThongTinBienLai }), { error_code: '01' }, 'a wrong checksum is refused')
  t.notOk(sim.transactions.has('REF-NUM') || sim.transactions.has('REF-BAD'))
})

t.test('a PayGov that answers INIT without a URL, or not at all, is a failure the gateway can explain', async (t) => {
  const odd = new SimServer({
    name: 'paygov-odd',
    routes: {
      'POST /init': () => ({ status: 200, body: { error_code: '05', message: 'Đối tác 079203001234 chưa được cấp quyền' } }),
      'POST /query': () => ({ status: 200, body: { error_code: '99', message: 'Lỗi hệ thống' } })
    }
  })
  await odd.start(0)
  t.teardown(() => odd.stop())
  const c = new PaygovClient({ url: odd.url, initPath: '/init', queryPath: '/query', partnerCode: 'TINH-H56', secret: 'paygov-dev-shared-secret', currency: 'VND', timeouts: { connectMs: 500, headersMs: 1000, bodyMs: 1000 } })
  t.teardown(() => c.close())
  const init = await c.init(initRequest('REF-ODD'))
  t.match(init, { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED', message: /error_code 05/ })
  t.notMatch(init, { message: /079203001234/ }, 'digits runs in PayGov\'s text are masked before anyone logs them')
  t.match(await c.query('REF-ODD', '20241122083000'), { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED' }, 'a reply without MaLoi 00 is not believed')
})
