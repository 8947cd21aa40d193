/**
 * Signed receipts: every 202 carries the gateway's signed statement that it accepted a
 * given body from a given member at a given time. The statement is canonical JSON (keys
 * sorted, RFC 8785 for the strings and arrays it holds), so a receipt re-serialised by
 * its holder still verifies. Under load one signature covers a batch of statements and the
 * receipt carries its inclusion proof; `lgsp verify` checks a receipt with the gateway's
 * certificate alone.
 */
import { createHash, type X509Certificate } from 'node:crypto'
import type { AcceptReply, MessageKind } from '../store/types.js'
import { verifyBatchSignature, type BatchSignature, type BatchSigner, type InclusionProof } from './batch-signer.js'
import { canonicalJson } from './canonical-json.js'

/** Re-exported: a receipt's statement is signed as this canonical JSON, and its checkers build it here. */
export { canonicalJson }

export const RECEIPT_TYPE = 'lgsp-receipt/v1'

export interface ReceiptStatement {
  type: typeof RECEIPT_TYPE
  messageId: string
  receivedAt: string
  sender: string
  kind: MessageKind
  /** SHA-256 (hex) of the request body as received. */
  contentSha256: string
  destinations: string[]
}

export interface Receipt {
  statement: ReceiptStatement
  signature: string
  proof?: InclusionProof
}

export function receiptStatement (reply: AcceptReply, sender: string, kind: MessageKind, contentSha256: string): ReceiptStatement {
  return { type: RECEIPT_TYPE, messageId: reply.messageId, receivedAt: reply.receivedAt, sender, kind, contentSha256, destinations: reply.destinations }
}

export async function issueReceipt (signer: BatchSigner, statement: ReceiptStatement): Promise<Receipt> {
  const s: BatchSignature = await signer.sign(canonicalJson(statement))
  return s.proof === undefined ? { statement, signature: s.signature } : { statement, signature: s.signature, proof: s.proof }
}

export type ReceiptCheck = { ok: true, batched: boolean } | { ok: false, reason: string }

/** Checks a receipt against the gateway's certificate and, when given, the body that was sent. */
export function verifyReceipt (receipt: Receipt, cert: X509Certificate, body?: Buffer | string): ReceiptCheck {
  if (receipt?.statement?.type !== RECEIPT_TYPE || typeof receipt.signature !== 'string') return { ok: false, reason: 'not an lgsp receipt' }
  const check = verifyBatchSignature(canonicalJson(receipt.statement), receipt, cert)
  if (!check.ok) return check
  if (body !== undefined && createHash('sha256').update(body).digest('hex') !== receipt.statement.contentSha256) {
    return { ok: false, reason: 'the body given is not the one the receipt is for (SHA-256 differs)' }
  }
  return check
}
