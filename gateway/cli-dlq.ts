/**
 * The operator's dead-letter and pause commands, for the CLI: replay or discard one dead
 * letter by id or every one a filter matches (destination, error code, dossier), with a
 * reason, and resume a paused destination. They act on the store directly (the CLI opens the
 * store the gateway uses) and write each action to the message log with the operator's id, as
 * the HTTP routes do (gateway/delivery/dlq.ts).
 */
import { userInfo } from 'node:os'
import { actOnMatching, actOnOne, hasCriterion, type DlqActionResult } from './delivery/dlq.js'
import { resumeCursor } from './delivery/worker.js'
import { sha256Hex } from './crypto/message-log.js'
import { lgspError } from './errors.js'
import { uuidv7 } from './ids.js'
import type { Store } from './store/types.js'

/** Parsed options of `dlq replay` / `dlq discard`. */
export interface DlqCommandOptions {
  /** One dead letter by id; otherwise the filter below (at least one criterion). */
  id?: number
  destination?: string
  code?: string
  /** MaHoSo (the CLI's --dossier). */
  maHoSo?: string
  /** Why: required for discard and for bulk actions. */
  reason?: string
  /** Who (a member id, the CLI's --as); the OS user name as `cli:<user>` when absent. */
  operator?: string
}

/** What a command did, for the CLI to print. */
export interface DlqCommandResult extends DlqActionResult {
  /** False when an id was given and there is no such dead letter. */
  found: boolean
}

const operatorOf = (o: { operator?: string }): string => {
  if (o.operator !== undefined && o.operator.length > 0) return o.operator
  let user = 'unknown'
  try { user = userInfo().username } catch { /* no passwd entry (a container): keep "unknown" */ }
  return `cli:${user}`
}

async function run (action: 'replay' | 'discard', o: DlqCommandOptions, store: Store): Promise<DlqCommandResult> {
  const bulk = o.id === undefined
  const reason = o.reason?.trim() ?? ''
  if (reason.length === 0) {
    if (bulk || action === 'discard') throw lgspError('LGSP_ERR_DLQ_REASON_REQUIRED')
  }
  const why = reason.length > 0 ? reason : 'replayed (no reason given)'
  const by = operatorOf(o)
  if (!bulk) {
    if (!Number.isSafeInteger(o.id) || o.id! <= 0) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'The dead-letter id is a positive integer.')
    const done = await actOnOne(store, action, o.id!, by, why)
    return done === undefined ? { action, ids: [], found: false } : { ...done, found: true }
  }
  const selection = { ...(o.destination === undefined ? {} : { destination: o.destination }), ...(o.code === undefined ? {} : { code: o.code }), ...(o.maHoSo === undefined ? {} : { maHoSo: o.maHoSo }) }
  if (!hasCriterion(selection)) throw lgspError('LGSP_ERR_DLQ_FILTER_REQUIRED')
  return { ...await actOnMatching(store, action, selection, by, why), found: true }
}

/** `lgsp dlq replay [ID] [--destination D] [--code C] [--dossier M] [--reason TEXT] [--as MEMBER]` */
export const replay = (options: DlqCommandOptions, store: Store): Promise<DlqCommandResult> => run('replay', options, store)

/** `lgsp dlq discard [ID] [--destination D] [--code C] [--dossier M] --reason TEXT [--as MEMBER]` */
export const discard = (options: DlqCommandOptions, store: Store): Promise<DlqCommandResult> => run('discard', options, store)

/**
 * `lgsp destinations resume NAME [--as MEMBER]`: asks the running gateway's paused worker to
 * resume (it reads the request from the store at its next poll) and logs the request.
 */
export async function resume (options: { destination: string, operator?: string }, store: Store, now = Date.now()): Promise<{ destination: string, asked: true, logMessageId: string }> {
  await store.setCursor(resumeCursor(options.destination), String(now))
  const by = operatorOf(options)
  const messageId = uuidv7(now)
  const body = JSON.stringify({ action: 'resume', by, destination: options.destination })
  await store.appendLog([{ at: now, direction: 'in', party: by, kind: 'destination-resume', messageId, contentHash: sha256Hex(body), body, signature: null }])
  return { destination: options.destination, asked: true, logMessageId: messageId }
}
