/**
 * The tax component (SOAP): the adapter (adapter.ts), its notice poller (poller.ts), codec and client. Delivery: dossiers whose procedure names `tax` are submitted with
 * NopHoSo; an attempt that may have gone through is checked with TraCuuHoSo before it is
 * sent again. Notices come back pushed by DVCQG (routes.ts, the component's routes, reads them with this
 * folder's codec), or, with `notices.poll`, fetched by this folder's notice poller (poller.ts, `notice`).
 */
export { TaxAdapter } from './adapter.js'
export { field, noticeFromPush, noticeGroups, noticePushBody, noticeRows, noticeXml, parseAmount, parseNoticeDate, receiptFromPush, TAX_NOTICE, taxNotice, type TaxNoticeGroup, type TaxNoticeRow, type TaxReceipt } from './codec.js'
export { WSDL_PATH } from './client.js'
export { TaxNoticePoller } from './poller.js'
export { component } from './component.js'
