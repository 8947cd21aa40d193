/**
 * Operators' actions on the dead-letter list, one id or in bulk (by destination, error code or
 * dossier), each with a reason. Every action that changed something is written to the message
 * log (kind `dlq-replay` / `dlq-discard`, party: the operator's member id), so the trail of who
 * put what back in the queue, or dropped it, is as tamper-evident as the messages themselves,
 * whether the action came from the HTTP API or the CLI.
 */
import { sha256Hex } from '../crypto/message-log.js'
import { uuidv7 } from '../ids.js'
import type { DeadFilter, Store } from '../store/types.js'

/** Which dead letters a bulk action takes: at least one criterion. */
export interface DeadSelection {
  destination?: string
  code?: string
  maHoSo?: string
}

/** What an action did. */
export interface DlqActionResult {
  action: 'replay' | 'discard'
  /** The dead-letter (outbox unit) ids acted on. */
  ids: number[]
  /** The message-log entry that records it (absent when nothing matched). */
  logMessageId?: string
}

/** Whether a selection names anything (a bulk action never takes the whole list by accident). */
export const hasCriterion = (s: DeadSelection): boolean =>
  [s.destination, s.code, s.maHoSo].some((v) => typeof v === 'string' && v.length > 0)

/** Dead letters matched per listDead call; the loop goes on until none is left. */
const PAGE = 500

/** Where an operator acted: the API and the CLI (`dlq-…` log entries) or the console (`console-…`). */
export type DlqChannel = 'dlq' | 'console'

async function record (store: Store, action: DlqActionResult['action'], operator: string, reason: string, what: Record<string, unknown>, ids: number[], now: number, channel: DlqChannel = 'dlq'): Promise<string | undefined> {
  if (ids.length === 0) return undefined
  const messageId = uuidv7(now)
  const body = JSON.stringify({ action, by: operator, reason, ...what, units: ids })
  await store.appendLog([{ at: now, direction: 'in', party: operator, kind: `${channel}-${action}`, messageId, contentHash: sha256Hex(body), body, signature: null }])
  return messageId
}

async function apply (store: Store, action: DlqActionResult['action'], id: number, operator: string, reason: string, now: number): Promise<boolean> {
  return action === 'replay' ? await store.replayDead(id, now) : await store.discardDead(id, now, `${reason} (by ${operator})`)
}

/** Replays or discards one dead letter; false when there is no such entry (nothing is logged then). */
export async function actOnOne (store: Store, action: DlqActionResult['action'], id: number, operator: string, reason: string, now = Date.now(), channel: DlqChannel = 'dlq'): Promise<DlqActionResult | undefined> {
  if (!await apply(store, action, id, operator, reason, now)) return undefined
  const logMessageId = await record(store, action, operator, reason, { id }, [id], now, channel)
  return logMessageId === undefined ? { action, ids: [id] } : { action, ids: [id], logMessageId }
}

/** Replays or discards every dead letter the selection matches. */
export async function actOnMatching (store: Store, action: DlqActionResult['action'], selection: DeadSelection, operator: string, reason: string, now = Date.now()): Promise<DlqActionResult> {
  const filter: DeadFilter = { limit: PAGE }
  if (selection.destination !== undefined) filter.destination = selection.destination
  if (selection.code !== undefined) filter.code = selection.code
  if (selection.maHoSo !== undefined) filter.maHoSo = selection.maHoSo
  const seen = new Set<number>()
  const ids: number[] = []
  for (;;) {
    // A replayed unit may die again while this runs: it is not taken twice.
    const batch = (await store.listDead(filter)).filter((d) => !seen.has(d.id))
    if (batch.length === 0) break
    for (const d of batch) {
      seen.add(d.id)
      if (await apply(store, action, d.id, operator, reason, now)) ids.push(d.id)
    }
  }
  const logMessageId = await record(store, action, operator, reason, { filter: selection }, ids, now)
  return logMessageId === undefined ? { action, ids } : { action, ids, logMessageId }
}
