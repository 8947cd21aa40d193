/**
 * The PayGov adapter: INIT and QUERY with checksums and the callback format (its simulator is a separate entry, simulator.ts, loaded only by the demo and the tests).
 * Unlike outbox destinations, PayGov is called in the request (INIT) and by the
 * settlement job (QUERY), and calls the gateway back.
 */
export { PaygovClient, type InitRequest, type PaygovSettings, type QueryAnswer } from './client.js'
export {
  PROTOCOL_VERSION, amountOf, checksum, checksumMatches, checksumOrder, fieldText, languages, paymentUrlOf, receiptOf, resultCodes, sign, transactionStates,
  type PayableItem, type ThongTinBienLai, type ReceiptFee
} from './codec.js'
