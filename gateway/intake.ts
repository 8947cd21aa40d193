/**
 * Accepting a message: check it, decide where it goes, and hand the store one atomic
 * write (message log, idempotency record, ledger change, outbox rows). Only when that
 * write has committed does the caller get its 202.
 */
import { activityOf } from './activity.js'
import { createHash } from 'node:crypto'
import type { AdapterRegistry, CanonicalMessage, Notice } from '../adapters/registry.js'
import type { Catalogue } from './catalogue.js'
import type { HoSo, QuaTrinhXuLy } from '../schemas/types.js'
import { lgspError } from './errors.js'
import { uuidv7 } from './ids.js'
import { parseDvcqgDate } from './ledger/dates.js'
import { inProcessingOrder, planDossiers, planNotice, planProgress, recordStatusTime } from './ledger/plan.js'
import { toState } from './ledger/state-machine.js'
import { normaliseBody, normaliseDossier, normaliseProgress } from './normalise.js'
import { countWarnings, MAX_REPLY_WARNINGS, warning, type Warning, type WarningCode } from './warnings.js'
import { formatDvcqgDate } from './ledger/dates.js'
import type { Member } from './members.js'
import type { AcceptReply, MessageKind, OutboxInsert, Store } from './store/types.js'
import type { BatchSigner } from './crypto/batch-signer.js'
import { issueReceipt, receiptStatement, type Receipt } from './crypto/receipts.js'
import { checkBatchSize, checkSchema, validators } from './validation.js'
import { checkWrite, type AccessConfig } from './access.js'
import { metrics } from './metrics.js'
import type { Backpressure } from './delivery/backpressure.js'

export interface IntakeDeps {
  store: Store
  adapters: AdapterRegistry
  /** Procedures: unknown codes are refused, and each dossier also goes to its procedure's vertical systems. */
  catalogue: Catalogue
  /** Wakes the delivery workers of the destinations that got new units. */
  notify: (destinations: readonly string[]) => void
  /** Signs receipts (absent: replies carry none). */
  receipts?: BatchSigner
  /** Told of every accepted message's normalisations, counted by code (the log line and the per-member tally). */
  onWarnings?: (member: string, kind: MessageKind, counts: Partial<Record<WarningCode, number>>) => void
  /** Who may write to dossiers it does not own (config `access`), checked inside the store's atomic plan. */
  access: AccessConfig
  /** Refuses messages for a destination whose backlog is at its bound (delivery.backlog); absent: no bound. */
  backpressure?: Backpressure
}

export interface IntakeRequest {
  member: Member
  /** Parsed body. */
  body: unknown
  /** Raw body as received (hashed for idempotency, kept in the message log). */
  raw: string
  idempotencyKey?: string
  /** Destinations named by the request; the member's defaults otherwise. */
  destinations?: string[]
  /** The member's verified detached JWS over `raw` (kept in the message log). */
  signature?: string
  /** The trace id of the request's W3C traceparent: the deliveries continue its trace. */
  traceId?: string
}

export interface IntakeResult {
  replayed: boolean
  reply: AcceptReply
  /** The gateway's signed receipt, when receipts are on. */
  receipt?: Receipt
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/

/** Lowercase hex SHA-256 (content hashes, derived idempotency keys). */
export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/** Refuses an Idempotency-Key header that is not 1 to 128 visible ASCII characters. */
export function checkIdempotencyKey (header: string): void {
  if (!IDEMPOTENCY_KEY.test(header)) throw lgspError('LGSP_ERR_IDEMPOTENCY_KEY_INVALID')
}

export function requireKind (member: Member, kind: Member['messageKinds'][number]): void {
  if (!member.messageKinds.includes(kind)) {
    throw lgspError('LGSP_ERR_AUTH_KIND_FORBIDDEN', `Member ${member.id} may not send ${kind} messages.`)
  }
}

/** The destinations of a message: those requested (each must be allowed) or the member's defaults. */
export function resolveDestinations (member: Member, requested: readonly string[] | undefined): string[] {
  if (requested !== undefined && requested.length > 0) {
    const forbidden = requested.filter((d) => !member.destinations.includes(d))
    if (forbidden.length > 0) {
      throw lgspError('LGSP_ERR_AUTH_DESTINATION_FORBIDDEN', `Member ${member.id} may not send to ${forbidden.join(', ')}; allowed: ${member.destinations.join(', ') || 'none'}.`)
    }
    return [...new Set(requested)]
  }
  const defaults = member.defaultDestinations ?? member.destinations
  if (defaults.length === 0) throw lgspError('LGSP_ERR_AUTH_DESTINATION_FORBIDDEN', `Member ${member.id} has no destinations configured.`)
  return [...defaults]
}

/**
 * One message or an array of them: normalised from the forms real software sends (reported in
 * `warnings`), then checked against its schema.
 */
function validate<T> (validator: typeof validators.dossierRequest | typeof validators.progressRequest, body: unknown,
  normalise: Parameters<typeof normaliseBody>[1], warnings: Warning[]): T[] {
  // A batch past the schema's maxItems is refused before any per-item work.
  checkBatchSize(validator, body)
  const normalised = normaliseBody(body, normalise, warnings)
  checkSchema(validator, normalised)
  return (Array.isArray(normalised) ? normalised : [normalised]) as T[]
}

/** Fields DVCQG expects of a record whose absence changes no figure: accepted, reported. */
const EXPECTED_FIELDS = ['TenTTHC', 'ChuHoSo', 'LoaiDoiTuong'] as const

/** What a record lacks that the sender should know about (none of it refuses the record). */
function recordWarnings (r: HoSo, path: string, known: boolean, out: Warning[]): void {
  for (const f of EXPECTED_FIELDS) if (r[f] === undefined) out.push(warning('LGSP_WARN_FIELD_MISSING', `${path}/${f}`))
  if (r.KenhThucHien === undefined) out.push(warning('LGSP_WARN_CHANNEL_ABSENT', `${path}/KenhThucHien`))
  if (!known) out.push(warning('LGSP_WARN_PROCEDURE_UNKNOWN', `${path}/MaTTHC`))
  const state = toState(r.TrangThaiHoSo)
  if ((state === 3 || state === 9 || state === 10) && recordStatusTime(r, state) === undefined) out.push(warning('LGSP_WARN_END_DATE_MISSING', `${path}/TrangThaiHoSo`))
}

/** The reply's warnings and per-item outcomes (stored with the key, so a repeat gets them too). */
function replyNotes (warnings: readonly Warning[], outcomes: AcceptReply['outcomes']): Partial<AcceptReply> {
  const notes: Partial<AcceptReply> = { outcomes }
  if (warnings.length > 0) {
    notes.warnings = warnings.slice(0, MAX_REPLY_WARNINGS)
    notes.warningCounts = countWarnings(warnings)
  }
  return notes
}

/** Date order rules the schema cannot express. */
function checkDates (r: HoSo, index: number): void {
  const received = r.NgayTiepNhan === undefined ? undefined : parseDvcqgDate(r.NgayTiepNhan)
  if (received === undefined) return
  for (const field of ['NgayHenTra', 'NgayKetThucXuLy', 'NgayTra'] as const) {
    const v = r[field]
    if (v !== undefined && (parseDvcqgDate(v) ?? Infinity) < received) {
      throw lgspError('LGSP_ERR_REQUEST_DATE_ORDER', `${field} of ${r.MaHoSo} is before its NgayTiepNhan.`, { errors: [{ path: `/${index}/${field}`, message: 'is before NgayTiepNhan' }] })
    }
  }
}

function idempotencyKeyOf (member: Member, kind: MessageKind, header: string | undefined, maHoSo: readonly string[], contentHash: string): string {
  if (header !== undefined) {
    checkIdempotencyKey(header)
    return `${member.id}:key:${header}`
  }
  // Without a header: the same sender, dossiers and content are the same message.
  return `${member.id}:auto:${sha256(`${kind}\n${maHoSo.join('\n')}\n${contentHash}`)}`
}

/** Cuts one canonical message into every destination's units, in order. */
export function unitsFor (adapters: AdapterRegistry, destinations: readonly string[], maHoSo: string, message: CanonicalMessage): OutboxInsert[] {
  const out: OutboxInsert[] = []
  for (const destination of destinations) {
    const adapter = adapters.get(destination)
    if (adapter === undefined) throw lgspError('LGSP_ERR_AUTH_DESTINATION_FORBIDDEN', `Destination ${destination} is not configured.`)
    for (const u of adapter.units(message)) out.push({ destination, maHoSo, op: u.op, payload: u.payload })
  }
  return out
}

async function accept (deps: IntakeDeps, req: IntakeRequest, kind: MessageKind, maHoSo: string[], destinations: string[],
  plan: (messageId: string, now: number) => Parameters<Store['accept']>[0]['plan']): Promise<IntakeResult> {
  const contentHash = sha256(req.raw)
  const idempotencyKey = idempotencyKeyOf(req.member, kind, req.idempotencyKey, maHoSo, contentHash)
  const now = Date.now()
  const messageId = uuidv7(now)
  const reply: AcceptReply = { messageId, receivedAt: new Date(now).toISOString(), destinations }
  // The receipt is signed while the store commits; it is handed out only if the commit succeeds.
  const receipt = deps.receipts === undefined ? undefined : issueReceipt(deps.receipts, receiptStatement(reply, req.member.id, kind, contentHash))
  receipt?.catch(() => {})
  // The units the plan cut, per destination, for the console's per-minute figures (gateway/activity.ts).
  let units: readonly { destination: string }[] = []
  const planned = plan(messageId, now)
  const result = await metrics.commit('accept', async () => deps.store.accept({
    messageId, receivedAt: now, sender: req.member.id, kind, idempotencyKey, contentHash, body: req.member.logBodies ? req.raw : null,
    signature: req.signature ?? null, ...(req.traceId === undefined ? {} : { traceId: req.traceId }), maHoSo, reply, plan: (current) => {
      const p = planned(current)
      // Inside the plan, before the message's first write: a repeat of an accepted message is answered before this.
      const full = deps.backpressure?.check(new Set(p.outbox.map((u) => u.destination)))
      if (full !== undefined) throw lgspError('LGSP_ERR_SERVER_BACKLOG', `Destination ${full.destination} has ${full.backlog} messages waiting (bound ${full.limit}): send again in ${full.retryAfter} s.`, { retryAfter: full.retryAfter })
      units = p.outbox
      return p
    }
  }))
  if (!result.replayed) {
    deps.backpressure?.added(units.map((u) => u.destination))
    deps.notify(destinations)
    activityOf(deps.store).accepted(units.map((u) => u.destination), now)
    if (result.reply.warningCounts !== undefined) deps.onWarnings?.(req.member.id, kind, result.reply.warningCounts)
  }
  if (deps.receipts === undefined) return result
  // A repeat gets a receipt for the message as first accepted (its id and time).
  const signed = { ...result, receipt: result.replayed ? await issueReceipt(deps.receipts, receiptStatement(result.reply, req.member.id, kind, contentHash)) : await receipt! }
  metrics.receipt()
  return signed
}

/** POST /v1/dossiers: one HoSo or an array of them. */
export async function acceptDossiers (deps: IntakeDeps, req: IntakeRequest): Promise<IntakeResult> {
  return metrics.intake('dossier', req.member.id, async () => dossiers(deps, req))
}

async function dossiers (deps: IntakeDeps, req: IntakeRequest): Promise<IntakeResult> {
  requireKind(req.member, 'dossier')
  const destinations = resolveDestinations(req.member, req.destinations)
  const warnings: Warning[] = []
  const records = validate<HoSo>(validators.dossierRequest, req.body, normaliseDossier, warnings)
  const ids = records.map((r) => r.MaHoSo)
  const dup = ids.find((id, i) => ids.indexOf(id) !== i)
  if (dup !== undefined) throw lgspError('LGSP_ERR_REQUEST_DUPLICATE_DOSSIER', `MaHoSo ${dup} appears more than once in this request.`)
  records.forEach(checkDates)
  // Routing by procedure: the member's destinations plus the vertical systems that take part.
  // A procedure the catalogue does not list yet goes to the member's destinations only.
  const routes = records.map((r, i) => {
    const procedure = deps.catalogue.get(r.MaTTHC)
    recordWarnings(r, Array.isArray(req.body) ? `/${i}` : '', procedure !== undefined, warnings)
    const verticals = (procedure?.HeThongLienThong ?? []).filter((d) => deps.adapters.get(d) !== undefined && !destinations.includes(d))
    // Never back to the system the dossier came from.
    return [...destinations, ...verticals].filter((d) => deps.adapters.get(d)?.sourceMember !== req.member.id)
  })
  const all = [...new Set(routes.flat())]
  return accept(deps, req, 'dossier', ids, all, (messageId, now) => (current) => {
    // Against the rows as the store holds them now: the owner cannot change under the check.
    for (const r of records) checkWrite(deps.access, req.member.id, 'dossier', { maHoSo: r.MaHoSo, maTTHC: current.get(r.MaHoSo)?.maTTHC ?? r.MaTTHC, creator: current.get(r.MaHoSo)?.owner })
    const ctx = { sender: req.member.id, messageId, now, indexed: Array.isArray(req.body) }
    const change = planDossiers(current, records, ctx)
    const outbox: OutboxInsert[] = []
    let row = 0
    change.outcomes.forEach((o, i) => {
      if (o.outcome === 'refused') return
      // The record as the ledger keeps it (a status behind the dossier's is replaced by the real one).
      const record = change.rows[row]!.record
      outbox.push(...unitsFor(deps.adapters, routes[i]!, record.MaHoSo, { kind: 'dossier', messageId, sender: req.member.id, record, existed: change.existed[row]! }))
      row++
    })
    const outcomes = change.outcomes.map((o, index) => ({ index, MaHoSo: records[index]!.MaHoSo, ...o }))
    return { change, outbox, reply: replyNotes([...warnings, ...change.warnings], outcomes) }
  })
}

/** POST /v1/dossiers/{MaHoSo}/progress: one QuaTrinhXuLy or an array of them. */
export async function acceptProgress (deps: IntakeDeps, req: IntakeRequest, maHoSo: string): Promise<IntakeResult> {
  return metrics.intake('progress', req.member.id, async () => progress(deps, req, maHoSo))
}

async function progress (deps: IntakeDeps, req: IntakeRequest, maHoSo: string): Promise<IntakeResult> {
  requireKind(req.member, 'progress')
  const destinations = resolveDestinations(req.member, req.destinations)
  const warnings: Warning[] = []
  // The ledger applies them, and every destination receives them, in ThoiDiemXuLy order.
  const entries = inProcessingOrder(validate<QuaTrinhXuLy>(validators.progressRequest, req.body, normaliseProgress, warnings))
  const wrong = entries.find((e) => e.entry.MaHoSo !== maHoSo)
  if (wrong !== undefined) throw lgspError('LGSP_ERR_REQUEST_PATH_MISMATCH', `Entry ${wrong.index} has MaHoSo ${wrong.entry.MaHoSo}, the URL names ${maHoSo}.`)
  return accept(deps, req, 'progress', [maHoSo], destinations, (messageId, now) => (current) => {
    const known = current.get(maHoSo)
    // An unknown dossier is planProgress's 404; a known one must be the sender's or granted to it.
    if (known !== undefined) checkWrite(deps.access, req.member.id, 'progress', { maHoSo, maTTHC: known.maTTHC, creator: known.owner })
    const change = planProgress(current, maHoSo, entries, { sender: req.member.id, messageId, now, indexed: Array.isArray(req.body) })
    // Refused entries go nowhere; history goes on, in event time, so DVCQG's history is whole.
    const sent = entries.filter((_, i) => change.outcomes[i]!.outcome !== 'refused').map((e) => e.entry)
    // When history went last, the dossier's record goes again after it: a destination that
    // takes the status from the latest progress call would be left at an older status.
    const row = change.rows[0]!
    const lastSent = sent.at(-1)
    const resync = change.outcomes.some((o) => o.outcome === 'history') && lastSent !== undefined && toState(lastSent.TrangThai) !== row.state
    const message: CanonicalMessage = { kind: 'progress', messageId, sender: req.member.id, maHoSo, entries: sent, ...(resync ? { record: row.record } : {}) }
    const outbox = unitsFor(deps.adapters, destinations, maHoSo, message)
    const outcomes = change.outcomes.map((o, i) => ({ index: entries[i]!.index, MaHoSo: maHoSo, ...o })).sort((a, b) => a.index - b.index)
    return { change, outbox, reply: replyNotes([...warnings, ...change.warnings], outcomes) }
  })
}

/**
 * A component's notice (a tax notice, …) for one dossier, from its poller or push route: the
 * raw document goes into the message log; the dossier moves to the entry's status with the
 * notice's fee lines; every destination gets the entry.
 */
export async function acceptNotice (deps: IntakeDeps, member: Member, notice: Notice): Promise<IntakeResult> {
  return metrics.intake(notice.kind, member.id, async () => noticeOf(deps, member, notice))
}

async function noticeOf (deps: IntakeDeps, member: Member, notice: Notice): Promise<IntakeResult> {
  requireKind(member, 'progress')
  const { maHoSo, entry } = notice
  const destinations = resolveDestinations(member, undefined).filter((d) => deps.adapters.get(d)?.sourceMember !== member.id)
  // Hashed: a notice's identity (decision numbers, …) may hold spaces or non-ASCII, which an idempotency key may not.
  return accept(deps, { member, body: notice.body, raw: notice.raw, idempotencyKey: `${notice.kind}:${sha256(notice.identity)}` }, notice.kind, [maHoSo], destinations, (messageId, now) => (current) => {
    const known = current.get(maHoSo)
    if (known !== undefined) checkWrite(deps.access, member.id, notice.kind, { maHoSo, maTTHC: known.maTTHC, creator: known.owner })
    // Event time: the entry's ThoiDiemXuLy.
    const at = parseDvcqgDate(entry.ThoiDiemXuLy) ?? now
    const change = planNotice(current, maHoSo, { kind: notice.kind, toState: toState(entry.TrangThai), fees: notice.fees }, at, { sender: member.id, messageId, now })
    const record = change.rows[0]!.record
    return { change, outbox: unitsFor(deps.adapters, destinations, maHoSo, { kind: 'notice', type: notice.kind, messageId, sender: member.id, record, entry, body: notice.body }) }
  })
}
