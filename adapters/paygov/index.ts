/**
 * The PayGov adapter: INIT and QUERY with checksums, the callback format, and a simulator.
 * Unlike outbox destinations, PayGov is called in the request (INIT) and by the
 * settlement job (QUERY), and calls the gateway back.
 */
export { PaygovClient, type InitRequest, type PaygovSettings, type QueryAnswer } from './client.js'
export { PaygovSimulator, politeCallbacks, type CallbackMisbehaviour, type PaygovSimulatorOptions, type QueryFault, type SimCallbackReply, type SimReceived, type SimTransaction } from './simulator.js'
export {
  PROTOCOL_VERSION, amountOf, checksum, checksumMatches, checksumOrder, fieldText, languages, paymentUrlOf, receiptOf, resultCodes, sign, transactionStates,
  type PayableItem, type ThongTinBienLai, type ReceiptFee
} from './codec.js'
