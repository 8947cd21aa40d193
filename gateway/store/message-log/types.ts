/** The message-log port (message-log/sqlite.ts, message-log/redis.ts). */
import type { Checkpoint, LogAppend, LogEntry } from '../../crypto/message-log.js'

/** Which log entries to read: by sequence number or by time (ms), bounds included; or one message's entries. */
export interface LogRange {
  fromSeq?: number
  toSeq?: number
  fromAt?: number
  toAt?: number
  /** Only this message's entries (its arrival and what was sent for it); an operator's query, not indexed. */
  messageId?: string
}

/** The tamper-evident message log (gateway/crypto/message-log.ts): accept() appends inbound entries itself. */
export interface MessageLogStore {
  /** Appends entries (outbound messages), chained after the current tip, in one atomic write. */
  appendLog (items: readonly LogAppend[]): Promise<LogEntry[]>
  /** The last entry's sequence number and hash ({0, GENESIS} for an empty log). */
  logTip (): Promise<{ seq: number, hash: string }>
  readLog (range: LogRange): Promise<LogEntry[]>
  saveCheckpoint (c: Checkpoint): Promise<void>
  /** Checkpoints with seq in [fromSeq, toSeq]. */
  checkpoints (fromSeq: number, toSeq: number): Promise<Checkpoint[]>
}
