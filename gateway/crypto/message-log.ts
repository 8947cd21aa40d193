/**
 * The tamper-evident message log. Every inbound and outbound message is an entry whose
 * hash covers its sequence number, its fields, the digest of its body and the hash of the
 * entry before it; the gateway signs a checkpoint (sequence number and hash) periodically
 * and at shutdown. An auditor verifies the log, or an exported archive, with the gateway's
 * certificate alone: a changed, removed, inserted or reordered entry breaks the chain where
 * it happened, and re-hashing the chain after a change no longer matches the checkpoints.
 */
import { createHash, X509Certificate } from 'node:crypto'
import { parseDetached, signDetached, verifyDetached } from './jws.js'
import { canonicalJson } from './canonical-json.js'
import type { Identity } from '../../certs/pki.js'

export const GENESIS = '0'.repeat(64)

export type LogDirection = 'in' | 'out'

/** What the gateway appends. */
export interface LogAppend {
  at: number
  direction: LogDirection
  /** The sending member (in) or the destination (out). */
  party: string
  /** Message kind (in) or adapter operation (out). */
  kind: string
  messageId: string
  /** SHA-256 (hex) of the body. */
  contentHash: string
  /** Null when the member's bodies are kept as digests only. */
  body: string | null
  /** The member's JWS (in) or the gateway's (out), when there is one. */
  signature: string | null
}

export interface LogEntry extends LogAppend {
  seq: number
  prevHash: string
  hash: string
}

export interface Checkpoint {
  seq: number
  hash: string
  at: number
  /** Detached JWS over the canonical checkpoint statement. */
  signature: string
}

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')

/** The hash of an entry at a sequence number (the number is part of what is hashed). */
export function entryHash (e: LogAppend & { prevHash: string }, seq: number): string {
  return sha256Hex(JSON.stringify([seq, e.at, e.direction, e.party, e.kind, e.messageId, e.contentHash, e.signature, e.prevHash]))
}

/** Chains entries after a tip: what a store writes. */
export function chain (tip: { seq: number, hash: string }, items: readonly LogAppend[]): LogEntry[] {
  let { seq, hash } = tip
  return items.map((item) => {
    seq++
    const entry: LogEntry = { ...item, seq, prevHash: hash, hash: '' }
    entry.hash = hash = entryHash(entry, seq)
    return entry
  })
}

const checkpointStatement = (c: { seq: number, hash: string, at: number }): string =>
  canonicalJson({ type: 'lgsp-log-checkpoint/v1', seq: c.seq, hash: c.hash, at: new Date(c.at).toISOString() })

export function signCheckpoint (tip: { seq: number, hash: string }, identity: Identity, at = Date.now()): Checkpoint {
  const c = { seq: tip.seq, hash: tip.hash, at }
  return { ...c, signature: signDetached(checkpointStatement(c), identity.key, { x5c: [identity.chain[0]!.raw.toString('base64')] }) }
}

export type ProblemKind = 'changed' | 'removed' | 'inserted' | 'reordered' | 'checkpoint'

export interface LogProblem {
  kind: ProblemKind
  /** Sequence number where it shows (as stored). */
  seq: number
  detail: string
}

export interface LogReport {
  ok: boolean
  entries: number
  firstSeq: number | null
  lastSeq: number | null
  checkpoints: number
  /** Entries after the last valid checkpoint: chained, but not yet under a signature. */
  uncovered: number
  problems: LogProblem[]
}

const MAX_PROBLEMS = 1000
/** How far a moved entry is looked for, around its stored position. */
const SEARCH = 256

/**
 * Verifies entries (in stored order) and checkpoints. `anchor` is the hash the first entry
 * must follow: GENESIS for a whole log, the archive's stated anchor for a range.
 */
export function verifyLog (entries: readonly LogEntry[], checkpoints: readonly Checkpoint[], certificates: readonly X509Certificate[], anchor = GENESIS): LogReport {
  const problems: LogProblem[] = []
  const report = (p: LogProblem): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p)
  }
  // 1. Each entry on its own: the sequence number its hash was made with, and its body.
  const orig: Array<number | undefined> = entries.map((e) => {
    if (entryHash(e, e.seq) === e.hash) return e.seq
    for (let d = 1; d <= SEARCH; d++) {
      if (entryHash(e, e.seq + d) === e.hash) return e.seq + d
      if (e.seq - d >= 1 && entryHash(e, e.seq - d) === e.hash) return e.seq - d
    }
    return undefined
  })
  entries.forEach((e, i) => {
    if (orig[i] === undefined) report({ kind: 'changed', seq: e.seq, detail: `entry ${e.seq} does not match its hash: its fields were changed` })
    else if (e.body !== null && sha256Hex(e.body) !== e.contentHash) report({ kind: 'changed', seq: e.seq, detail: `the body of entry ${e.seq} does not match its digest` })
  })
  // 2. Entries claiming the same original place: the one the chain continues from is genuine, the others were inserted.
  const referenced = new Set(entries.map((e) => e.prevHash))
  const bySeq = new Map<number, number[]>()
  orig.forEach((s, i) => {
    if (s !== undefined) bySeq.set(s, [...(bySeq.get(s) ?? []), i])
  })
  const genuine = new Set<number>()
  /** Original sequence number → index of its genuine entry. */
  const at = new Map<number, number>()
  for (const [s, idx] of bySeq) {
    const keep = idx.length === 1 ? idx[0]! : (idx.find((i) => referenced.has(entries[i]!.hash)) ?? idx[idx.length - 1]!)
    genuine.add(keep)
    at.set(s, keep)
    for (const i of idx) if (i !== keep) report({ kind: 'inserted', seq: entries[i]!.seq, detail: `entry at ${entries[i]!.seq} is not part of the chain (a second entry ${s})` })
  }
  // 3. Order and gaps, along the stored order.
  let expected = entries.length > 0 && anchor === GENESIS ? 1 : undefined
  let maxSeen = 0
  // A changed entry still holds its place: it is reported as changed, not as missing.
  const present = new Set(orig.map((s, i) => s ?? entries[i]!.seq))
  entries.forEach((e, i) => {
    const s = orig[i]
    if (s === undefined || !genuine.has(i)) return
    if (s < maxSeen) {
      report({ kind: 'reordered', seq: e.seq, detail: `entry ${s} is stored after entry ${maxSeen} (at ${e.seq})` })
      return
    }
    if (expected !== undefined && s > expected) {
      const missing: number[] = []
      for (let m = expected; m < s && missing.length < 10_000; m++) if (!present.has(m)) missing.push(m)
      if (missing.length > 0) report({ kind: 'removed', seq: e.seq, detail: `entries ${missing[0]}..${missing[missing.length - 1]} are missing before ${s}${s !== e.seq ? ` (later entries were renumbered: ${s} is stored at ${e.seq})` : ''}` })
    } else if (s !== e.seq && s < e.seq) {
      report({ kind: 'inserted', seq: e.seq, detail: `entry ${s} is stored at ${e.seq}: entries were inserted before it` })
    }
    maxSeen = s
    expected = s + 1
  })
  // 4. Links: each genuine entry must follow the genuine entry before it (or the anchor).
  let firstOrig = Infinity
  let lastOrig = -Infinity
  for (const s of at.keys()) {
    firstOrig = Math.min(firstOrig, s)
    lastOrig = Math.max(lastOrig, s)
  }
  const hashOf = (s: number): string | undefined => {
    const i = at.get(s)
    return i === undefined ? undefined : entries[i]!.hash
  }
  for (const [s, i] of at) {
    const e = entries[i]!
    // A missing first entry is reported as removed above.
    const before = s === firstOrig ? (anchor === GENESIS && s !== 1 ? undefined : anchor) : hashOf(s - 1)
    if (before === undefined) continue // reported as removed
    if (e.prevHash !== before) {
      if (s === firstOrig) report({ kind: 'changed', seq: e.seq, detail: `entry ${s} does not follow the anchor ${anchor.slice(0, 12)}…` })
      else report({ kind: 'changed', seq: e.seq - 1, detail: `entry ${s - 1} was changed and re-hashed: entry ${s} follows another hash` })
    }
  }
  // 5. Checkpoints: signed by the gateway, and matching the chain.
  let covered = 0
  let valid = 0
  for (const c of checkpoints) {
    const jws = (() => { try { return parseDetached(c.signature) } catch { return undefined } })()
    const signedOk = jws !== undefined && certificates.some((cert) => verifyDetached(jws, checkpointStatement(c), cert.publicKey))
    if (!signedOk) {
      report({ kind: 'checkpoint', seq: c.seq, detail: `checkpoint ${c.seq} is not signed by the gateway's certificate` })
      continue
    }
    const h = hashOf(c.seq)
    if (h === undefined) {
      if (c.seq >= firstOrig && c.seq <= lastOrig) report({ kind: 'removed', seq: c.seq, detail: `entry ${c.seq}, under a signed checkpoint, is missing` })
      continue
    }
    if (h !== c.hash) {
      report({ kind: 'checkpoint', seq: c.seq, detail: `entries up to ${c.seq} differ from the signed checkpoint: the chain was re-hashed after a change` })
      continue
    }
    valid++
    covered = Math.max(covered, c.seq)
  }
  const last = entries.length === 0 ? null : entries.reduce((m, e) => Math.max(m, e.seq), 0)
  return {
    ok: problems.length === 0,
    entries: entries.length,
    firstSeq: entries.length === 0 ? null : entries.reduce((m, e) => Math.min(m, e.seq), Infinity),
    lastSeq: last,
    checkpoints: valid,
    uncovered: last === null ? 0 : entries.filter((e) => e.seq > covered).length,
    problems
  }
}

/** An archive for auditors: one JSON document per line. */
export interface ArchiveHeader {
  format: 'lgsp-log-archive/v1'
  createdAt: string
  /** The hash the first entry follows (GENESIS when the archive starts at entry 1). */
  anchor: string
  fromSeq: number | null
  toSeq: number | null
  /** The gateway's certificates (PEM) that signed the checkpoints. */
  certificates: string[]
}

export function writeArchive (header: ArchiveHeader, entries: readonly LogEntry[], checkpoints: readonly Checkpoint[]): string {
  const lines = [JSON.stringify(header)]
  for (const e of entries) lines.push(JSON.stringify({ entry: e }))
  for (const c of checkpoints) lines.push(JSON.stringify({ checkpoint: c }))
  return `${lines.join('\n')}\n`
}

export function readArchive (text: string): { header: ArchiveHeader, entries: LogEntry[], checkpoints: Checkpoint[], certificates: X509Certificate[] } {
  const lines = text.split('\n').filter((l) => l.trim() !== '')
  const header = JSON.parse(lines[0] ?? '{}') as ArchiveHeader
  if (header.format !== 'lgsp-log-archive/v1') throw new TypeError('not an lgsp log archive (first line must be its header)')
  const entries: LogEntry[] = []
  const checkpoints: Checkpoint[] = []
  for (const l of lines.slice(1)) {
    const v = JSON.parse(l) as { entry?: LogEntry, checkpoint?: Checkpoint }
    if (v.entry !== undefined) entries.push(v.entry)
    if (v.checkpoint !== undefined) checkpoints.push(v.checkpoint)
  }
  return { header, entries, checkpoints, certificates: header.certificates.map((c) => new X509Certificate(c)) }
}
