import { createHash } from 'node:crypto'
import t from 'tap'
import { request } from 'undici'
import { checksum, sign } from '../adapters/paygov/index.js'
import { verifyLog } from '../gateway/crypto/message-log.js'
import { formatDvcqgDate } from '../gateway/ledger/dates.js'
import type { Payment } from '../gateway/store/types.js'
import { CITIZEN_ID, hoso, startStack, waitFor, type Stack } from './helpers.js'

/** SHA-256 over fields joined by "|" with the secret last, written out from the protocol document. */
const vector = (values: Array<string | number>, secret: string): string =>
  createHash('sha256').update([...values.map(String), secret].join('|')).digest('hex')

t.test('checksums match vectors computed from the documented field orders', async (t) => {
  const secret = 's3cr3t-shared-with-paygov'
  const init = { LoaiBanTin: 'INIT', PhienBan: '1.0.6', MaDoiTac: 'TINH-H56', MaThamChieu: 'REF1', SoTien: '135000', LoaiHinhThanhToan: 'PAY', MaKenhThanhToan: '1', MaThietBi: '1', NgonNgu: 'vi-VN', MaTienTe: 'VND', MaNganHang: 'PAYMENT', ThongTinGiaoDich: 'Lệ phí', ThoiGianGD: '20240201080000', Ip: '10.1.2.3' }
  t.equal(checksum('INIT', init, secret), vector(['INIT', '1.0.6', 'TINH-H56', 'REF1', '135000', 'PAY', '1', '1', 'vi-VN', 'VND', 'PAYMENT', 'Lệ phí', '20240201080000', '10.1.2.3'], secret))
  const ipn = { LoaiBanTin: 'IPN', MaLoi: '00', MaDoiTac: 'TINH-H56', MaThamChieu: 'REF1', SoTien: '135000', MaTienTe: 'VND', MaGiaoDich: 'PG1', MaNganHang: 'VCB', ThoiGianGD: '20240201081500', ThongTinGiaoDich: 'Lệ phí' }
  t.equal(checksum('IPN', ipn, secret), vector(['IPN', '00', 'TINH-H56', 'REF1', '135000', 'VND', 'PG1', 'VCB', '20240201081500', 'Lệ phí'], secret))
  const query = { LoaiBanTin: 'QUERY', PhienBan: '1.0.6', MaDoiTac: 'TINH-H56', MaThamChieu: 'REF1', ThoiGianGD: '20240201090000' }
  t.equal(checksum('QUERY', query, secret), vector(['QUERY', '1.0.6', 'TINH-H56', 'REF1', '20240201090000'], secret))
  t.equal(checksum('IPN', { ...ipn, SoTien: 135000 }, secret), checksum('IPN', ipn, secret), 'SoTien as a number reads as its string form')
  t.match(checksum('IPN', ipn, secret), /^[0-9a-f]{64}$/, 'lowercase hex')
})

async function dossierWithPayment (s: Stack, n: number, key?: string): Promise<{ maHoSo: string, reference: string, url: string }> {
  const record = hoso(n)
  t.equal((await s.post('onestop', '/v1/dossiers', record)).statusCode, 202)
  const res = await s.post('onestop', '/v1/payments', { MaHoSo: record.MaHoSo, MaDonVi: '000.00.01.H56', PhiLePhi: [{ TenPhiLePhi: 'Lệ phí cấp đổi', Gia: 135000 }, { TenPhiLePhi: 'Phí sát hạch', Gia: 50000 }] },
    key === undefined ? {} : { 'idempotency-key': key })
  if (res.statusCode !== 201) throw new Error(`payment request: ${res.statusCode} ${res.body}`)
  const body = res.json() as { MaThamChieu: string, UrlThanhToan: string }
  return { maHoSo: record.MaHoSo, reference: body.MaThamChieu, url: body.UrlThanhToan }
}

const payment = async (s: Stack, reference: string): Promise<Payment> => (await s.get('onestop', `/v1/payments/${reference}`)).json() as Payment

t.test('paying a dossier: request, URL, callback, and both the one-stop and DVCQG show it paid online', async (t) => {
  const s = await startStack(t, { listen: true })
  const { maHoSo, reference, url } = await dossierWithPayment(s, 1, 'pay-1')
  t.match(url, new RegExp(`^${s.paygov.url}/pay/${reference}$`))
  t.equal(s.paygov.transactions.get(reference)?.amount, 185000, 'INIT carried the sum of the fee lines')
  t.match(s.paygov.transactions.get(reference)?.receipt, { MaHoSo: maHoSo, MaTTHC: hoso(1).MaTTHC, MaDonVi: '000.00.01.H56' })
  t.equal((await payment(s, reference)).status, 'pending')

  const again = await s.post('onestop', '/v1/payments', { MaHoSo: maHoSo, MaDonVi: '000.00.01.H56', PhiLePhi: [{ TenPhiLePhi: 'Lệ phí cấp đổi', Gia: 135000 }, { TenPhiLePhi: 'Phí sát hạch', Gia: 50000 }] }, { 'idempotency-key': 'pay-1' })
  t.equal(again.statusCode, 200)
  t.equal(again.json().MaThamChieu, reference, 'a repeat gets the same reference and URL')
  t.equal(s.paygov.transactions.size, 1, 'and PayGov was not asked twice')

  // The payer opens the URL and pays.
  t.equal((await request(`${url}?result=success`)).statusCode, 200)
  await s.paygov.settled()
  const { body: reply, callback } = s.paygov.replies[0]!
  t.match(s.paygov.replies[0], { status: 200, body: { MaLoi: '00', MaDoiTac: s.paygov.partnerCode } })
  t.equal(typeof callback.SoTien, 'string', 'PayGov posted SoTien as a string')
  t.same(reply, { MaLoi: '00', MoTaLoi: '', MaDoiTac: s.paygov.partnerCode, MaThamChieu: reference, ThoiGianGD: callback.ThoiGianGD, MaXacThuc: callback.MaXacThuc },
    'the reply is the partners\' one: taken, echoing the callback\'s ThoiGianGD and MaXacThuc, with the reference')
  t.match(await payment(s, reference), { status: 'paid', resultSource: 'callback', transactionCode: /^PG/ })

  await waitFor('DVCQG shows it paid', () => s.dvcqg.dossiers.get(maHoSo)?.record.DuocThanhToanTrucTuyen === '2')
  t.match(s.dvcqg.dossiers.get(maHoSo)!.record.DanhSachLePhi, [{ TenPhiLePhi: 'Lệ phí cấp đổi', Gia: 135000, HinhThucThu: 'Trực tuyến' }, { TenPhiLePhi: 'Phí sát hạch', Gia: 50000 }])
  await waitFor('the one-stop is told', () => (s.onestop.events.get(maHoSo) ?? []).some((e) => e.type === 'payment'))
  t.match(s.onestop.events.get(maHoSo)!.find((e) => e.type === 'payment')!.data, { MaThamChieu: reference, SoTien: 185000, DuocThanhToanTrucTuyen: '2' })
  const view = (await s.get('onestop', `/v1/dossiers/${maHoSo}`)).json() as { record: Record<string, unknown>, history: Array<{ kind: string }> }
  t.equal(view.record.DuocThanhToanTrucTuyen, '2')
  t.equal(view.history.at(-1)?.kind, 'payment')

  const twice = await s.post('onestop', '/v1/payments', { MaHoSo: maHoSo, MaDonVi: '000.00.01.H56', PhiLePhi: [{ TenPhiLePhi: 'Lệ phí', Gia: 1000 }] })
  t.equal(twice.statusCode, 409)
  t.equal(twice.json().code, 'LGSP_ERR_PAYMENT_ALREADY_PAID')

  // The message log holds the request, PayGov's callback and the effect, and it all verifies (bodies included).
  const log = await s.gateway.store.readLog({})
  t.ok(['payment-request', 'payment-callback', 'payment'].every((k) => log.some((e) => e.direction === 'in' && e.kind === k)), 'request, callback and effect are logged')
  t.same(verifyLog(log, [], []).problems, [])
})

t.test('payment requests that are refused', async (t) => {
  const s = await startStack(t, { listen: true })
  const record = hoso(5)
  await s.post('onestop', '/v1/dossiers', record)
  const cases: Array<[string, 'onestop' | 'vertical', unknown, number, string]> = [
    ['no fee lines', 'onestop', { MaHoSo: record.MaHoSo, MaDonVi: 'H56', PhiLePhi: [] }, 422, 'LGSP_ERR_REQUEST_INVALID'],
    ['all fees 0', 'onestop', { MaHoSo: record.MaHoSo, MaDonVi: 'H56', PhiLePhi: [{ TenPhiLePhi: 'Miễn phí', Gia: 0 }] }, 422, 'LGSP_ERR_PAYMENT_NOTHING_TO_PAY'],
    ['fractional amount', 'onestop', { MaHoSo: record.MaHoSo, MaDonVi: 'H56', PhiLePhi: [{ TenPhiLePhi: 'Lệ phí', Gia: 1.5 }] }, 422, 'LGSP_ERR_REQUEST_INVALID'],
    ['unknown dossier', 'onestop', { MaHoSo: hoso(6).MaHoSo, MaDonVi: 'H56', PhiLePhi: [{ TenPhiLePhi: 'Lệ phí', Gia: 1000 }] }, 404, 'LGSP_ERR_DOSSIER_NOT_FOUND'],
    ['member without the payment kind', 'vertical', { MaHoSo: record.MaHoSo, MaDonVi: 'H56', PhiLePhi: [{ TenPhiLePhi: 'Lệ phí', Gia: 1000 }] }, 403, 'LGSP_ERR_AUTH_KIND_FORBIDDEN']
  ]
  for (const [name, who, body, status, code] of cases) {
    const res = await s.post(who, '/v1/payments', body)
    t.equal(res.statusCode, status, name)
    t.equal(res.json().code, code, name)
  }
  t.equal(s.paygov.transactions.size, 0, 'PayGov was never asked')
  await s.paygov.stop()
  const down = await s.post('onestop', '/v1/payments', { MaHoSo: record.MaHoSo, MaDonVi: 'H56', PhiLePhi: [{ TenPhiLePhi: 'Lệ phí', Gia: 1000 }] }, { 'idempotency-key': 'retry-me' })
  t.equal(down.statusCode, 502)
  t.equal(down.json().code, 'LGSP_ERR_PAYGOV_UNAVAILABLE')
  await s.paygov.start(s.paygov.server.port)
  const retried = await s.post('onestop', '/v1/payments', { MaHoSo: record.MaHoSo, MaDonVi: 'H56', PhiLePhi: [{ TenPhiLePhi: 'Lệ phí', Gia: 1000 }] }, { 'idempotency-key': 'retry-me' })
  t.equal(retried.statusCode, 200, 'the same key retries INIT')
  t.equal(retried.json().MaThamChieu, down.json().MaThamChieu, 'with the same reference')
  t.equal(retried.json().status, 'pending')
})

t.test('adversarial callbacks: each gets the right reply and code, no paid state is lost or invented', async (t) => {
  const s = await startStack(t, { listen: true })
  const a = await dossierWithPayment(s, 10)
  const b = await dossierWithPayment(s, 11)
  const secret = s.paygov.secret
  const ipn = (reference: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
    LoaiBanTin: 'IPN', MaLoi: '00', MaDoiTac: s.paygov.partnerCode, MaThamChieu: reference, SoTien: '185000', MaTienTe: 'VND',
    MaGiaoDich: 'PG-A-1', MaNganHang: 'VCB', ThoiGianGD: formatDvcqgDate(Date.now()), ThongTinGiaoDich: 'Lệ phí', ...over
  })
  const post = async (body: unknown): Promise<{ status: number, body: Record<string, any> }> => {
    const res = await request(`${s.gateway.url}/v1/callbacks/paygov`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) })
    return { status: res.statusCode, body: await res.body.json() as Record<string, any> }
  }
  const expect = async (name: string, body: unknown, status: number, maLoi: string, code?: string): Promise<Record<string, any>> => {
    const r = await post(body)
    t.equal(r.status, status, `${name}: HTTP status`)
    t.equal(r.body.MaLoi, maLoi, `${name}: MaLoi`)
    t.equal(r.body.code, code, `${name}: code`)
    return r.body
  }

  await expect('forged checksum', sign('IPN', ipn(a.reference), 'guessed-secret'), 401, '99', 'LGSP_ERR_CALLBACK_CHECKSUM')
  await expect('tampered amount', { ...sign('IPN', ipn(a.reference), secret), SoTien: '1000' }, 401, '99', 'LGSP_ERR_CALLBACK_CHECKSUM')
  await expect('wrong amount, correctly signed', sign('IPN', ipn(a.reference, { SoTien: '184000' }), secret), 409, '99', 'LGSP_ERR_CALLBACK_AMOUNT_MISMATCH')
  await expect('wrong partner', sign('IPN', ipn(a.reference, { MaDoiTac: 'TINH-KHAC' }), secret), 409, '99', 'LGSP_ERR_CALLBACK_PARTNER_MISMATCH')
  await expect('wrong currency', sign('IPN', ipn(a.reference, { MaTienTe: 'USD' }), secret), 409, '99', 'LGSP_ERR_CALLBACK_PARTNER_MISMATCH')
  await expect('unknown reference', sign('IPN', ipn('NO-SUCH-REF', { MaGiaoDich: 'PG-ORPHAN' }), secret), 404, '99', 'LGSP_ERR_CALLBACK_UNKNOWN_REFERENCE')
  await expect('missing fields', { LoaiBanTin: 'IPN', MaThamChieu: a.reference }, 400, '99', 'LGSP_ERR_CALLBACK_MALFORMED')
  const notJson = await post('{"MaLoi": ')
  t.equal(notJson.status, 400, 'malformed body')
  t.equal(notJson.body.code, 'LGSP_ERR_REQUEST_MALFORMED')
  t.equal((await payment(s, a.reference)).status, 'pending', 'none of those changed anything')

  const success = sign('IPN', ipn(a.reference), secret)
  const first = await expect('success', success, 200, '00')
  const replay = await expect('replayed success', success, 200, '00')
  t.same(replay, first, 'a replay gets the very same reply')
  await expect('failure after success', sign('IPN', ipn(a.reference, { MaLoi: '10', MaGiaoDich: 'PG-A-2' }), secret), 200, '00')
  t.match(await payment(s, a.reference), { status: 'paid', transactionCode: 'PG-A-1' }, 'the success stands')

  await expect('failure', sign('IPN', ipn(b.reference, { MaLoi: '24', MaGiaoDich: 'PG-B-1' }), secret), 200, '00')
  t.match(await payment(s, b.reference), { status: 'failed' })
  // SoTien as a number (some senders) is the same amount, and its string form is what the checksum covers.
  await expect('success after a failure (the payer tried again)', sign('IPN', ipn(b.reference, { MaGiaoDich: 'PG-B-2', SoTien: 185000 }), secret), 200, '00')
  t.match(await payment(s, b.reference), { status: 'paid', transactionCode: 'PG-B-2' })

  await waitFor('both dossiers synced as paid', () => [a, b].every((p) => s.dvcqg.dossiers.get(p.maHoSo)?.record.DuocThanhToanTrucTuyen === '2'))
  const payEvents = (id: string): number => (s.onestop.events.get(id) ?? []).filter((e) => e.type === 'payment').length
  t.equal(payEvents(a.maHoSo), 1, 'one payment notice despite the replays')
  t.equal(payEvents(b.maHoSo), 1)

  const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10)
  const report = (await s.get('operator', `/v1/payments/settlement?date=${today}`)).json() as Record<string, any>
  t.match(report, { paid: { count: 2, amount: 370000 }, pending: { count: 0 }, failed: { count: 0 }, orphans: { count: 1, amount: 185000 }, mismatches: { count: 3 } })
  t.equal((await s.get('operator', '/v1/payments/settlement?date=22-11-2024')).json().code, 'LGSP_ERR_REQUEST_BAD_PARAMETER')
  t.equal((await s.get('onestop', `/v1/payments/settlement?date=${today}`)).statusCode, 403)
})

t.test('callbacks from an address that is not PayGov\'s are refused', async (t) => {
  const s = await startStack(t, { listen: true })
  const p = await dossierWithPayment(s, 20)
  // Reconfigure: only PayGov's (documentation-range) address may call back.
  const cfg = s.config.payments!
  cfg.callbackAllowFrom.push('192.0.2.10')
  s.paygov.pay(p.reference)
  await s.paygov.settled()
  t.match(s.paygov.replies[0], { status: 403, body: { code: 'LGSP_ERR_CALLBACK_SOURCE' } })
  t.equal((await payment(s, p.reference)).status, 'pending')
  cfg.callbackAllowFrom.push('127.0.0.1')
  t.equal((await s.gateway.payments!.settle()).settled, 1, 'settlement finds the result anyway')
  t.equal((await payment(s, p.reference)).status, 'paid')
})

t.test('with 20% of callbacks dropped, settlement ends with every payment in its true final state', async (t) => {
  let seed = 7
  const random = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  const s = await startStack(t, { listen: true })
  s.paygov.misbehaviour = { ...s.paygov.misbehaviour, dropRate: 0.2, duplicate: true }
  const payments: Array<{ maHoSo: string, reference: string, url: string }> = []
  for (let i = 0; i < 40; i++) payments.push(await dossierWithPayment(s, 100 + i))
  const truth = new Map<string, boolean>()
  for (const p of payments) {
    const success = random() < 0.8
    truth.set(p.reference, success)
    s.paygov.pay(p.reference, success)
  }
  await s.paygov.settled()
  t.ok(s.paygov.dropped > 0, `${s.paygov.dropped} callbacks never came`)
  const before = await Promise.all(payments.map((p) => payment(s, p.reference)))
  t.ok(before.some((p) => p.status === 'pending'), 'some payments were left pending')

  const pass = await s.gateway.payments!.settle()
  t.equal(pass.queried, s.paygov.dropped, 'each pending payment was queried')
  for (const p of payments) {
    t.equal((await payment(s, p.reference)).status, truth.get(p.reference)! ? 'paid' : 'failed', `${p.reference} settled to its true state`)
  }
  const paid = payments.filter((p) => truth.get(p.reference)!)
  await waitFor('DVCQG shows exactly the paid dossiers as paid', () =>
    payments.every((p) => (s.dvcqg.dossiers.get(p.maHoSo)?.record.DuocThanhToanTrucTuyen === '2') === truth.get(p.reference)))
  t.equal(s.dvcqg.repeats, 0)
  const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10)
  const report = (await s.get('operator', `/v1/payments/settlement?date=${today}`)).json() as Record<string, any>
  t.match(report, { paid: { count: paid.length, amount: paid.length * 185000 }, pending: { count: 0 }, failed: { count: payments.length - paid.length } })
})

t.test('a payment whose INIT answer was lost is still settled when the payer paid', async (t) => {
  const s = await startStack(t, { listen: true })
  const paid = await dossierWithPayment(s, 300)
  const unpaid = await dossierWithPayment(s, 301)
  // As after a crash between INIT and recording its answer: PayGov knows both, the gateway says "created".
  const db = (await import('better-sqlite3')).default(s.config.store.path)
  db.prepare("UPDATE payments SET status = 'created', url = NULL").run()
  db.close()
  s.paygov.misbehaviour = { ...s.paygov.misbehaviour, dropRate: 1 }
  s.paygov.pay(paid.reference, true)
  s.paygov.pay(unpaid.reference, false)
  const pass = await s.gateway.payments!.settle()
  t.equal(pass.queried, 2)
  t.equal((await payment(s, paid.reference)).status, 'paid')
  t.equal((await payment(s, unpaid.reference)).status, 'created', 'a failure is not trusted for a reference PayGov may not have')
})

t.test('INIT goes out as partners send it: string amounts, vi-VN, PAYMENT, the full receipt block, checksum over the strings sent', async (t) => {
  const s = await startStack(t, { listen: true })
  const cfg = s.config.payments!
  cfg.beneficiary = { TKThuHuong: '3511.0.1234567', MaNHThuHuong: 'KBNN-H56', TenTKThuHuong: 'Kho bạc Nhà nước tỉnh' }
  cfg.beneficiaryByAgency['000.00.02.H56'] = { TKThuHuong: '3511.0.7654321', MaNHThuHuong: 'KBNN-H56', TenTKThuHuong: 'Sở Tư pháp' }
  const record = hoso(400)
  await s.post('onestop', '/v1/dossiers', record)
  const payer = { HoTenNguoiNop: 'Lê Văn Nộp', SoCMNDNguoiNop: '079203004567', DiaChiNguoiNop: '12 Đường Hoa Sữa, Phường 3', HuyenNguoiNop: 'Thành phố Tân An', TinhNguoiNop: 'Long An' }
  // As a real one-stop sends it: Gia as strings, the payer and the DVC codes beside the fee lines.
  const res = await s.post('onestop', '/v1/payments', {
    MaHoSo: record.MaHoSo, MaDonVi: '000.00.01.H56', MaDVC: '1.003560.000.00.00.H56.01', TenDonVi: 'Sở Giao thông vận tải', ...payer,
    PhiLePhi: [{ TenPhiLePhi: 'Lệ phí cấp đổi', MaPhiLePhi: 'LP01', LoaiPhiLePhi: 'Lệ phí', Gia: '135000' }, { TenPhiLePhi: 'Phí sát hạch', Gia: '50000' }, { TenPhiLePhi: 'Miễn phí tra cứu', Gia: '0' }]
  })
  t.equal(res.statusCode, 201, res.body)
  const reference = res.json().MaThamChieu as string
  t.equal(res.json().SoTien, 185000, 'the gateway answers with the amount as a number')

  const init = s.paygov.received.find((r) => r.kind === 'INIT')!
  const b = init.body
  t.match(b, { LoaiBanTin: 'INIT', PhienBan: '1.0.6', MaDoiTac: s.paygov.partnerCode, MaThamChieu: reference, SoTien: '185000', LoaiHinhThanhToan: 'PAY', MaKenhThanhToan: '1', MaThietBi: '1', NgonNgu: 'vi-VN', MaTienTe: 'VND', MaNganHang: 'PAYMENT' })
  t.match(b.ThoiGianGD, /^\d{14}$/)
  t.equal(b.MaXacThuc, vector(['INIT', '1.0.6', s.paygov.partnerCode, reference, '185000', 'PAY', '1', '1', 'vi-VN', 'VND', 'PAYMENT', b.ThongTinGiaoDich as string, b.ThoiGianGD as string, b.Ip as string], s.paygov.secret),
    'MaXacThuc is over the documented order, with the string values as sent')
  t.equal(init.authorization, undefined, 'no Authorization header without payments.bearerToken')
  t.match(b.ThongTinBienLai, {
    MaDichVu: '2', MaDVC: '1.003560.000.00.00.H56.01', MaTTHC: record.MaTTHC, TenTTHC: record.TenTTHC, TenDVC: record.TenTTHC, MaDonVi: '000.00.01.H56', TenDonVi: 'Sở Giao thông vận tải', MaHoSo: record.MaHoSo,
    TKThuHuong: '3511.0.1234567', MaNHThuHuong: 'KBNN-H56', TenTKThuHuong: 'Kho bạc Nhà nước tỉnh', NoiDungThanhToan: b.ThongTinGiaoDich, ...payer,
    PhiLePhi: [{ LoaiPhiLePhi: 'Lệ phí', MaPhiLePhi: 'LP01', TenPhiLePhi: 'Lệ phí cấp đổi', SoTien: '135000' }, { LoaiPhiLePhi: '', MaPhiLePhi: '', TenPhiLePhi: 'Phí sát hạch', SoTien: '50000' }, { SoTien: '0' }],
    DSKhoanNop: [{ NoiDung: 'Lệ phí cấp đổi', SoTien: '135000' }, { NoiDung: 'Phí sát hạch', SoTien: '50000' }]
  })
  t.equal((b.ThongTinBienLai as { DSKhoanNop: unknown[] }).DSKhoanNop.length, 2, 'a free line is no payable item')
  t.match((await payment(s, reference)).fees, [{ Gia: 135000 }, { Gia: 50000 }, { Gia: 0 }], 'the fee lines are kept as numbers')
  const logged = s.logs.join('')
  t.notOk([payer.HoTenNguoiNop, payer.SoCMNDNguoiNop, payer.DiaChiNguoiNop, CITIZEN_ID].some((p) => logged.includes(p)), 'the payer\'s data is never logged')

  // Another agency's own account; without payer fields the dossier's owner is the payer; "en" becomes en-US; a bank chosen in advance is sent.
  const other = hoso(401)
  await s.post('onestop', '/v1/dossiers', other)
  t.equal((await s.post('onestop', '/v1/payments', { MaHoSo: other.MaHoSo, MaDonVi: '000.00.02.H56', NgonNgu: 'en', MaNganHang: 'VCB', PhiLePhi: [{ TenPhiLePhi: 'Lệ phí', Gia: 20000 }] })).statusCode, 201)
  const second = s.paygov.received.filter((r) => r.kind === 'INIT').at(-1)!.body
  t.match(second, { SoTien: '20000', NgonNgu: 'en-US', MaNganHang: 'VCB', ThongTinBienLai: { TKThuHuong: '3511.0.7654321', TenTKThuHuong: 'Sở Tư pháp', HoTenNguoiNop: other.ChuHoSo, SoCMNDNguoiNop: other.SoGiayToChuHoSo } })

  for (const [name, gia] of [['empty', ''], ['decimal', '1.5'], ['signed', '-1000'], ['spaced', ' 1000']] as const) {
    const bad = await s.post('onestop', '/v1/payments', { MaHoSo: other.MaHoSo, MaDonVi: 'H56', PhiLePhi: [{ TenPhiLePhi: 'Lệ phí', Gia: gia }] })
    t.equal(bad.statusCode, 422, `Gia ${name} is refused`)
    t.equal(bad.json().code, 'LGSP_ERR_REQUEST_INVALID')
  }
})

t.test('IPN as PayGov posts it: string SoTien applied, duplicates answered the same, a failed payment taken and recorded, a forgery refused', async (t) => {
  const s = await startStack(t, { listen: true })
  const paid = await dossierWithPayment(s, 410)
  const failed = await dossierWithPayment(s, 411)
  const forged = await dossierWithPayment(s, 412)

  s.paygov.misbehaviour = { ...s.paygov.misbehaviour, duplicate: true }
  s.paygov.pay(paid.reference, true)
  await s.paygov.settled()
  const [first, second] = s.paygov.replies
  t.equal(first!.callback.SoTien, '185000', 'SoTien came as a string')
  t.match(first, { status: 200, body: { MaLoi: '00', MaThamChieu: paid.reference, ThoiGianGD: first!.callback.ThoiGianGD, MaXacThuc: first!.callback.MaXacThuc } })
  t.same(second!.body, first!.body, 'the duplicate gets the very same reply')
  t.match(await payment(s, paid.reference), { status: 'paid', resultSource: 'callback' })

  s.paygov.misbehaviour = { ...s.paygov.misbehaviour, duplicate: false }
  s.paygov.pay(failed.reference, false)
  await s.paygov.settled()
  const failure = s.paygov.replies.at(-1)!
  t.not(failure.callback.MaLoi, '00')
  t.match(failure, { status: 200, body: { MaLoi: '00', MaThamChieu: failed.reference, MaXacThuc: failure.callback.MaXacThuc } }, 'a failed payment\'s callback is taken')
  t.equal(failure.body.code, undefined)
  t.match(await payment(s, failed.reference), { status: 'failed', resultSource: 'callback' })

  s.paygov.misbehaviour = { ...s.paygov.misbehaviour, forgeChecksum: true }
  s.paygov.pay(forged.reference, true)
  await s.paygov.settled()
  t.match(s.paygov.replies.at(-1), { status: 401, body: { MaLoi: '99', code: 'LGSP_ERR_CALLBACK_CHECKSUM', MaThamChieu: forged.reference } })
  t.equal((await payment(s, forged.reference)).status, 'pending', 'a forged callback changes nothing')

  // SoTien must still be a whole amount, whatever its form.
  const ipn = sign('IPN', { LoaiBanTin: 'IPN', MaLoi: '00', MaDoiTac: s.paygov.partnerCode, MaThamChieu: forged.reference, SoTien: '185000.00', MaTienTe: 'VND', MaGiaoDich: 'PG-X', MaNganHang: 'VCB', ThoiGianGD: formatDvcqgDate(Date.now()), ThongTinGiaoDich: 'Lệ phí' }, s.paygov.secret)
  const res = await request(`${s.gateway.url}/v1/callbacks/paygov`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ipn) })
  t.equal(res.statusCode, 400)
  t.match(await res.body.json(), { MaLoi: '99', code: 'LGSP_ERR_CALLBACK_MALFORMED' })
  t.equal((await payment(s, forged.reference)).status, 'pending')
})

t.test('QUERY carries the INIT\'s ThoiGianGD and is believed only with MaLoi "00" and a valid checksum', async (t) => {
  const s = await startStack(t, { listen: true })
  const p = await dossierWithPayment(s, 420)
  const initTime = s.paygov.received.find((r) => r.kind === 'INIT')!.body.ThoiGianGD
  s.paygov.misbehaviour = { ...s.paygov.misbehaviour, dropRate: 1 }
  // A pass queries payments not queried since its `now`: passes back to back within one millisecond would skip them.
  let clock = Date.now()
  const settle = async (): ReturnType<NonNullable<typeof s.gateway.payments>['settle']> => s.gateway.payments!.settle(clock += 1000)

  t.match(await settle(), { queried: 1, settled: 0 }, 'still pending at PayGov (TrangThaiGD 3)')
  const query = s.paygov.received.filter((r) => r.kind === 'QUERY').at(-1)!.body
  t.equal(query.ThoiGianGD, initTime, 'QUERY repeats the INIT\'s ThoiGianGD')
  t.equal(query.MaXacThuc, vector(['QUERY', '1.0.6', s.paygov.partnerCode, p.reference, initTime as string], s.paygov.secret))
  t.equal((await payment(s, p.reference)).status, 'pending')

  s.paygov.pay(p.reference, true)
  const logsBefore = s.logs.length
  for (const fault of ['error-code', 'forged'] as const) {
    s.paygov.queryFault = fault
    t.match(await settle(), { queried: 1, settled: 0 }, `${fault}: not believed`)
    t.equal((await payment(s, p.reference)).status, 'pending', `${fault}: the payment stays pending`)
  }
  const warnings = s.logs.slice(logsBefore).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'PayGov QUERY not trusted')
  t.match(warnings, [{ level: 40, reference: p.reference, code: 'LGSP_ERR_UPSTREAM_REJECTED' }, { level: 40, reference: p.reference, code: 'LGSP_ERR_UPSTREAM_BAD_REPLY' }], 'each logged at warn')
  t.notOk(s.logs.join('').includes(CITIZEN_ID))

  // PayGov knows no transaction under another ThoiGianGD: a QUERY sent with the wrong one is not answered "00".
  s.paygov.queryFault = 'none'
  s.paygov.transactions.get(p.reference)!.initTime = '20000101000000'
  t.match(await settle(), { queried: 1, settled: 0 })
  s.paygov.transactions.get(p.reference)!.initTime = initTime as string

  t.match(await settle(), { queried: 1, settled: 1 }, 'MaLoi 00 with TrangThaiGD 1 settles')
  t.match(await payment(s, p.reference), { status: 'paid', resultSource: 'query' })
})
