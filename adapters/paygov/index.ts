/**
 * The PayGov adapter: INIT and QUERY with checksums, the callback format, and a simulator.
 * Unlike outbox destinations, PayGov is called in the request (INIT) and by the
 * settlement job (QUERY), and calls the gateway back.
 */
export { PaygovClient, type InitRequest, type PaygovSettings, type QueryAnswer } from './client.js'
export { PaygovSimulator, politeCallbacks, type CallbackMisbehaviour, type PaygovSimulatorOptions } from './simulator.js'
export { PROTOCOL_VERSION, checksum, checksumMatches, checksumOrder, resultCodes, sign, transactionStates } from './codec.js'
