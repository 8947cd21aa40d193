import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { noticeGroups, noticeFromPush, parseAmount, parseNoticeDate, receiptFromPush, TaxAdapter, TaxNoticePoller, type TaxNoticeRow } from '../../adapters/tax/index.js'
import { TaxSimulator } from '../../adapters/tax/simulator.js'
import { parseXmlSafely } from '../../adapters/xml/index.js'
import { devSigningIdentity } from '../../certs/dev-identity.js'
import { verifyXmlEnveloped } from '../../gateway/crypto/xml-signature.js'
import { hoso, startStack, tempDir, toolAccepts, waitFor, waitForQueuesDrained, type Stack } from '../helpers.js'

const LAND = '1.004227.000.00.00.H56'
const land = (n: number): ReturnType<typeof hoso> => hoso(n, { MaTTHC: LAND, TenTTHC: 'Đăng ký, cấp giấy chứng nhận quyền sử dụng đất lần đầu', TrichYeuHoSo: 'Thửa đất số 125, tờ bản đồ 18' })

/** `xmlsec1 --verify` of a document with a certificate: true when it accepts the signature. */
function xmlsecVerifier (dir: string, certPem: string, extra: string[]): (xml: string) => Promise<boolean> {
  writeFileSync(join(dir, 'cert.pem'), certPem)
  return async (xml) => {
    writeFileSync(join(dir, 'request.xml'), xml)
    return await toolAccepts('xmlsec1', ['--verify', '--pubkey-cert-pem', join(dir, 'cert.pem'), ...extra, join(dir, 'request.xml')])
  }
}

async function stackWithTax (t: Test, noticeMs = 50): Promise<{ s: Stack, tax: TaxSimulator }> {
  const tax = await new TaxSimulator().start()
  t.teardown(() => tax.stop())
  const s = await startStack(t, { destinations: { tax: { adapter: 'tax', url: tax.url, notices: { member: 'gplx-test', poll: true, intervalMs: noticeMs }, concurrency: 8, timeouts: { connectMs: 300, headersMs: 600, bodyMs: 600 } } } })
  return { s, tax }
}

const notice = (maHoSo: string): TaxNoticeRow[] => [
  { MA_HSO: maHoSo, MA_SO_THUE: '8012345678', SO_QUYET_DINH: 'TB-2024-0001', NGAY_QUYET_DINH: '20240205', TEN_TIEUMUC: 'Lệ phí trước bạ nhà đất', SO_TIEN: 2_500_000 },
  { MA_HSO: maHoSo, MA_SO_THUE: '8012345678', SO_QUYET_DINH: 'TB-2024-0001', NGAY_QUYET_DINH: '20240205', TEN_TIEUMUC: 'Tiền sử dụng đất', SO_TIEN: 120_000_000 }
]

t.test('notice amounts are whole VND in invariant culture; anything else is refused, never rounded or zeroed', async (t) => {
  t.equal(parseAmount('1500000'), 1_500_000)
  t.equal(parseAmount('1500000.00'), 1_500_000, 'a zero fraction is only form')
  t.equal(parseAmount('1,500,000.00'), 1_500_000, 'grouped in threes by ","')
  t.equal(parseAmount(' 0 '), 0)
  t.equal(parseAmount(2500000), 2_500_000, 'a JSON number (receipts)')
  t.equal(parseAmount('1500000.50'), undefined, 'the đồng has no minor unit: a fraction is a misread field')
  t.equal(parseAmount('1.500.000'), undefined, 'not a number in invariant culture (the importer would read 0)')
  t.equal(parseAmount('1,50,000'), undefined, 'groups of three only')
  t.equal(parseAmount('-100'), undefined)
  t.equal(parseAmount('1e6'), undefined)
  t.equal(parseAmount(''), undefined)
  t.equal(parseAmount('abc'), undefined)
  t.equal(parseAmount(12.5), undefined)
  t.equal(parseAmount('1234567890123456'), undefined, 'beyond 15 digits')
})

t.test('notice dates dd-MM-yyyy become DVCQG dates in Vietnam time; impossible dates are refused', async (t) => {
  t.equal(parseNoticeDate('05-02-2024'), '20240205000000')
  t.equal(parseNoticeDate('05/02/2024 14:30'), '20240205143000')
  t.equal(parseNoticeDate('20240205'), '20240205000000')
  t.equal(parseNoticeDate('29-02-2023'), undefined, 'not on the calendar')
  t.equal(parseNoticeDate('2024-02-05'), undefined)
  t.equal(parseNoticeDate(''), undefined)
})

t.test('a notice file: base64 of UTF-8 XML, one ROW_LIST per dossier with its LIST lines', async (t) => {
  const xml = '<?xml version="1.0" encoding="UTF-8"?><DATA><HEADER/><BODY>' +
    '<ROW_LIST><MA_HSO>H56-A</MA_HSO><LIST><MA_SO_THUE>8012345678</MA_SO_THUE><SO_QUYET_DINH>12/TB-CCT</SO_QUYET_DINH><NGAY_QUYET_DINH>05-02-2024</NGAY_QUYET_DINH><TEN_TIEUMUC>Lệ phí trước bạ nhà đất</TEN_TIEUMUC><SO_TIEN>2500000.00</SO_TIEN></LIST></ROW_LIST>' +
    '<ROW_LIST><MA_HSO>H56-B</MA_HSO><LIST><SO_QUYET_DINH>13/TB-CCT</SO_QUYET_DINH><NGAY_QUYET_DINH>06-02-2024</NGAY_QUYET_DINH><TEN_TIEUMUC>Thuế thu nhập cá nhân</TEN_TIEUMUC><SO_TIEN>1,000,000</SO_TIEN></LIST>' +
    '<LIST><SO_QUYET_DINH>13/TB-CCT</SO_QUYET_DINH><NGAY_QUYET_DINH>06-02-2024</NGAY_QUYET_DINH><TEN_TIEUMUC>Tiền sử dụng đất</TEN_TIEUMUC><SO_TIEN>30000000</SO_TIEN></LIST></ROW_LIST>' +
    '<ROW_LIST><MA_HSO>H56-A</MA_HSO><LIST><SO_QUYET_DINH>12/TB-CCT</SO_QUYET_DINH><NGAY_QUYET_DINH>05-02-2024</NGAY_QUYET_DINH><TEN_TIEUMUC>Phí thẩm định</TEN_TIEUMUC><SO_TIEN>100000</SO_TIEN></LIST></ROW_LIST></BODY></DATA>'
  const pushed = { securitykey: 'k', data: { fileThongBaoThue: Buffer.from(xml).toString('base64').replace(/(.{76})/g, '$1\r\n') } }
  const text = noticeFromPush(pushed)
  t.equal(text, xml, 'field names in any case, base64 with line breaks')
  const groups = noticeGroups(parseXmlSafely(text, { root: 'DATA' }))
  t.same(groups.map((g) => [g.maHoSo, g.rows.map((r) => r.SO_TIEN)]), [['H56-A', [2_500_000, 100_000]], ['H56-B', [1_000_000, 30_000_000]]], 'lines of one dossier in two ROW_LISTs are merged')
  t.match(groups[0]!.rows[0], { MA_SO_THUE: '8012345678', SO_QUYET_DINH: '12/TB-CCT', NGAY_QUYET_DINH: '20240205000000', TEN_TIEUMUC: 'Lệ phí trước bạ nhà đất' })
  t.throws(() => noticeFromPush({ Data: { FileThongBaoThue: '@@not base64@@' } }), { code: 'LGSP_ERR_TAX_NOTICE_ENCODING' })
  t.throws(() => noticeFromPush({ Data: {} }), { code: 'LGSP_ERR_TAX_NOTICE_ENCODING' })
  t.throws(() => noticeFromPush({ Data: { FileThongBaoThue: Buffer.from([0xff, 0xfe, 0x00, 0x3c]).toString('base64') } }), { code: 'LGSP_ERR_TAX_NOTICE_ENCODING' }, 'not UTF-8')
  const bad = (line: string): unknown => noticeGroups(parseXmlSafely(`<DATA><BODY><ROW_LIST><MA_HSO>X</MA_HSO><LIST>${line}</LIST></ROW_LIST></BODY></DATA>`, { root: 'DATA' }))
  t.throws(() => bad('<SO_QUYET_DINH>1</SO_QUYET_DINH><NGAY_QUYET_DINH>05-02-2024</NGAY_QUYET_DINH><TEN_TIEUMUC>T</TEN_TIEUMUC><SO_TIEN>1500000.50</SO_TIEN>'), { code: 'LGSP_ERR_TAX_NOTICE_INVALID', message: /SO_TIEN/ })
  t.throws(() => bad('<SO_QUYET_DINH>1</SO_QUYET_DINH><NGAY_QUYET_DINH>31-02-2024</NGAY_QUYET_DINH><TEN_TIEUMUC>T</TEN_TIEUMUC><SO_TIEN>1</SO_TIEN>'), { code: 'LGSP_ERR_TAX_NOTICE_INVALID', message: /NGAY_QUYET_DINH/ })
  t.throws(() => bad('<NGAY_QUYET_DINH>05-02-2024</NGAY_QUYET_DINH><TEN_TIEUMUC>T</TEN_TIEUMUC><SO_TIEN>1</SO_TIEN>'), { code: 'LGSP_ERR_TAX_NOTICE_INVALID', message: /SO_QUYET_DINH/ })
  t.throws(() => noticeGroups(parseXmlSafely('<DATA><BODY/></DATA>', { root: 'DATA' })), { code: 'LGSP_ERR_TAX_NOTICE_INVALID' })
  t.match(receiptFromPush({ Data: { MaHoSo: 'H56-A', ThongTinThanhToan: { SoTien: 2500000, ThoiGianThanhToan: '20240206101500', MaThongBaoThue: '12/TB-CCT', TrangThaiThanhToan: 1 } } }), { MaHoSo: 'H56-A', SoTien: 2_500_000, ThoiGianThanhToan: '20240206101500', paid: true })
  t.throws(() => receiptFromPush({ Data: { MaHoSo: 'H56-A', ThongTinThanhToan: { SoTien: 'nhiều' } } }), { code: 'LGSP_ERR_TAX_NOTICE_INVALID' })
  t.throws(() => receiptFromPush({ Data: { MaHoSo: 'H56-A', ThongTinThanhToan: { SoTien: 1, ThoiGianThanhToan: '06-02-2024' } } }), { code: 'LGSP_ERR_TAX_NOTICE_INVALID' })
})

t.test('a land dossier goes to tax; its notice comes back to the one-stop as status 6 with the amounts', async (t) => {
  const { s, tax } = await stackWithTax(t)
  const record = land(1)
  const res = await s.post('onestop', '/v1/dossiers', record)
  t.same(res.json().destinations, ['dvcqg', 'tax'], 'routed by procedure')
  await waitFor('at the tax service', () => tax.held.has(record.MaHoSo))
  t.match(tax.held.get(record.MaHoSo)!.submission, { maHoSo: record.MaHoSo, maTTHC: LAND, nguoiNop: record.ChuHoSo, trichYeu: 'Thửa đất số 125, tờ bản đồ 18' })
  // A poll of the tax service runs and finds no notice: nothing reaches the one-stop.
  await s.gateway.producers.all.find((p): p is TaxNoticePoller => p instanceof TaxNoticePoller)!.pollOnce()
  await waitForQueuesDrained(s)
  t.equal((s.onestop.events.get(record.MaHoSo) ?? []).length, 0, 'no notice yet')

  tax.issueNotice(notice(record.MaHoSo))
  await waitFor('the one-stop got the notice', () => (s.onestop.events.get(record.MaHoSo) ?? []).some((e) => e.type === 'tax-notice'))
  const event = s.onestop.events.get(record.MaHoSo)!.find((e) => e.type === 'tax-notice')!
  t.match(event.data, { TrangThai: 6, total: 122_500_000, rows: [{ TEN_TIEUMUC: 'Lệ phí trước bạ nhà đất', SO_TIEN: 2_500_000 }, { TEN_TIEUMUC: 'Tiền sử dụng đất', SO_TIEN: 120_000_000 }] })
  const view = (await s.get('onestop', `/v1/dossiers/${record.MaHoSo}`)).json() as { TrangThaiHoSo: number, record: { DanhSachLePhi: unknown[] } }
  t.equal(view.TrangThaiHoSo, 6)
  t.match(view.record.DanhSachLePhi, [{ TenPhiLePhi: 'Lệ phí cấp đổi' }, { TenPhiLePhi: 'Lệ phí trước bạ nhà đất', Gia: 2_500_000, LoaiPhiLePhi: 'Thuế' }, { TenPhiLePhi: 'Tiền sử dụng đất', Gia: 120_000_000 }])
  await waitFor('DVCQG has status 6', () => (s.dvcqg.dossiers.get(record.MaHoSo)?.progress ?? []).some((p) => p.TrangThai === '6'))
  // Later payable: the one-stop asks to pay the notice's amounts.
  const pay = await s.post('onestop', '/v1/payments', { MaHoSo: record.MaHoSo, MaDonVi: 'H56', PhiLePhi: [{ TenPhiLePhi: 'Lệ phí trước bạ nhà đất', Gia: 2_500_000 }] })
  t.equal(pay.statusCode, 201)
  // Polling again does not apply the notice twice.
  await s.gateway.producers.all.find((p): p is TaxNoticePoller => p instanceof TaxNoticePoller)!.pollOnce()
  t.equal((s.onestop.events.get(record.MaHoSo) ?? []).filter((e) => e.type === 'tax-notice').length, 1)
})

t.test('with the tax service overloaded, every dossier reaches it once and the others flow meanwhile', async (t) => {
  const { s, tax } = await stackWithTax(t)
  tax.setFaults({ mode: 'random', rate: 0.5, delayMs: 800 })
  const lands = Array.from({ length: 20 }, (_, i) => land(100 + i))
  const others = Array.from({ length: 20 }, (_, i) => hoso(200 + i, { MaTTHC: '1.001193.000.00.00.H56', TenTTHC: 'Đăng ký khai sinh' }))
  for (const r of [...lands, ...others]) t.equal((await s.post('onestop', '/v1/dossiers', r)).statusCode, 202)
  await waitFor('the others reach DVCQG meanwhile', () => others.every((r) => s.dvcqg.dossiers.has(r.MaHoSo)))
  t.ok(lands.some((r) => !tax.held.has(r.MaHoSo)) || tax.counters.error + tax.counters.hang > 0, 'the tax service was struggling')
  // Overloaded for a while: some submissions faulted (and are retried) before it recovers.
  await waitFor('the tax service faulted some requests', () => tax.counters.error + tax.counters.hang + tax.counters.slow + tax.counters.drop >= 5 || lands.every((r) => tax.held.has(r.MaHoSo)))
  tax.setFaults({ mode: 'none' })
  t.teardown(async () => {
    if (t.passing()) return
    t.comment(JSON.stringify({ queues: (await s.get('operator', '/v1/admin/queues')).json(), dlq: (await s.get('operator', '/v1/admin/dlq')).json() }))
  })
  await waitFor('every land dossier at the tax service', () => lands.every((r) => tax.held.has(r.MaHoSo)), 30_000)
  t.ok(tax.counters.error > 0 && tax.counters.hang > 0 && tax.counters.slow + tax.counters.drop > 0, `every overload kind happened (${JSON.stringify(tax.counters)})`)
  t.equal(tax.repeats, 0, 'none submitted twice: uncertain attempts were checked with TraCuuHoSo')
  t.equal(tax.held.size, lands.length)
})

t.test('tax failure modes map to codes', async (t) => {
  const tax = await new TaxSimulator().start()
  const id = devSigningIdentity()
  const adapter = new TaxAdapter('tax', { url: tax.url, ...id, timeoutMs: 400 }, 'm')
  const unit = (n: number, payload: Record<string, unknown> = { maHoSo: land(n).MaHoSo, maTTHC: LAND, nguoiNop: 'Nguyễn Văn A', ngayNop: '20240201080000' }, uncertain = false) =>
    ({ id: n, maHoSo: land(n).MaHoSo, messageId: 'm', op: 'submit', payload, attempts: 1, uncertain })
  t.match(await adapter.deliver(unit(1)), { ok: true })
  t.match(await adapter.deliver(unit(2, { maHoSo: land(2).MaHoSo, maTTHC: LAND, ngayNop: 'x' })), { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED', message: /SOAP fault/ }, 'a Client fault is permanent')
  // Switched over HTTP, as an operator would during a demo.
  await fetch(`http://127.0.0.1:${tax.port}/_sim/faults`, { method: 'POST', body: JSON.stringify({ mode: 'error' }) })
  t.match(await adapter.deliver(unit(3)), { ok: false, code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE' })
  tax.setFaults({ mode: 'hang' })
  t.match(await adapter.deliver(unit(4)), { ok: false, code: 'LGSP_ERR_UPSTREAM_TIMEOUT', uncertain: true })
  tax.setFaults({ mode: 'drop' })
  t.match(await adapter.deliver(unit(5)), { ok: false, uncertain: true })
  tax.setFaults({ mode: 'none' })
  t.match(await adapter.deliver(unit(5, undefined, true)), { ok: true, note: /already received/ }, 'the dropped one was applied, and is not sent again')
  t.equal(tax.repeats, 0)
  // The simulator's own routes answer while the SOAP service is switched to hang.
  tax.setFaults({ mode: 'hang' })
  const state = await fetch(`http://127.0.0.1:${tax.port}/_sim/state`)
  t.equal(state.status, 200)
  t.match(await state.json(), { held: 2, counters: { hang: 1 } })
  tax.setFaults({ mode: 'none' })
  await tax.stop()
  // A kept-alive socket may see a reset rather than a refusal: either way a network error, retried.
  t.match(await adapter.deliver(unit(6)), { ok: false, code: 'LGSP_ERR_UPSTREAM_NETWORK' })
})

t.test('signed SOAP requests verify with xmlsec1; a flipped byte does not', async (t) => {
  const dir = tempDir(t)
  const tax = await new TaxSimulator().start()
  t.teardown(() => tax.stop())
  const id = devSigningIdentity('lgsp-tax-test')
  const adapter = new TaxAdapter('tax', { url: tax.url, ...id, timeoutMs: 2000 }, 'm')
  t.match(await adapter.deliver({ id: 1, maHoSo: land(1).MaHoSo, messageId: 'm', op: 'submit', payload: { maHoSo: land(1).MaHoSo, maTTHC: LAND, nguoiNop: 'Nguyễn Văn A', ngayNop: '20240201080000' }, attempts: 1, uncertain: false }), { ok: true })
  const request = tax.requests.at(-1)!
  t.match(request, /SignatureMethod Algorithm="http:\/\/www\.w3\.org\/2001\/04\/xmldsig-more#rsa-sha256"/)
  t.match(request, /CanonicalizationMethod Algorithm="http:\/\/www\.w3\.org\/2001\/10\/xml-exc-c14n#"/)
  // WS-Security references Body and Timestamp by Id: xmlsec1 must be told which attributes are Ids.
  const verify = xmlsecVerifier(dir, id.certPem, ['--id-attr:Id', 'http://schemas.xmlsoap.org/soap/envelope/:Body',
    '--id-attr:Id', 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd:Timestamp'])
  t.equal(await verify(request), true, 'xmlsec1 accepts the gateway\'s signature')
  t.equal(await verify(request.replace('Nguyễn Văn A', 'Nguyễn Văn B')), false, 'a changed body fails')
  const i = request.indexOf("<SignatureValue>") + 20
  t.equal(await verify(request.slice(0, i) + (request[i] === 'A' ? 'B' : 'A') + request.slice(i + 1)), false, 'a flipped byte in the signature fails')
})

t.test('with signature "enveloped", the whole envelope carries an XML-DSig enveloped signature that xmlsec1 verifies with no Id declarations', async (t) => {
  const dir = tempDir(t)
  const tax = await new TaxSimulator().start()
  t.teardown(() => tax.stop())
  const id = devSigningIdentity('lgsp-tax-enveloped')
  const adapter = new TaxAdapter('tax', { url: tax.url, ...id, timeoutMs: 2000, signature: 'enveloped' }, 'm')
  t.match(await adapter.deliver({ id: 1, maHoSo: land(2).MaHoSo, messageId: 'm', op: 'submit', payload: { maHoSo: land(2).MaHoSo, maTTHC: LAND, nguoiNop: 'Trần Thị B', ngayNop: '20240201080000' }, attempts: 1, uncertain: false }), { ok: true })
  const request = tax.requests.at(-1)!
  t.match(request, /<ds:Reference URI="">/)
  t.match(request, /Transform Algorithm="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#enveloped-signature"/)
  t.notMatch(request, /wsse:Security/, 'no WS-Security header in this mode')
  t.ok(verifyXmlEnveloped(request, id.certPem), 'xml-crypto verifies it')
  const verify = xmlsecVerifier(dir, id.certPem, [])
  t.equal(await verify(request), true, 'xmlsec1 accepts it')
  t.equal(await verify(request.replace('Trần Thị B', 'Trần Thị C')), false, 'a changed byte in the body fails')
  t.equal(await verify(request.replace('<soap:Envelope', '<soap:Envelope data-x="1"')), false, 'an added attribute on the envelope fails')
})
