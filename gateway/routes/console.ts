/**
 * The operator console: the static pages under /console (console/ in the project folder)
 * and the JSON they read under /console/api.
 *
 * - Login with an operator member's client credentials (admin: true). The session is a
 *   signed token (the bearer token format, with its own issuer, so neither is accepted in
 *   the other's place) in an HttpOnly, SameSite=Strict cookie scoped to /console; no token
 *   ever travels in a URL.
 * - CSRF: every state-changing call must come from the console's own origin (Origin checked
 *   when the browser sends it) and carry X-CSRF-Token, an HMAC of the session the page was
 *   given at login (a cross-site page can neither read it nor the cookie).
 * - Everything returned is masked the way the log redacts personal data (gateway/logger.ts):
 *   fields named in its redaction list, values shaped like a citizen ID, phone or e-mail,
 *   and free-text error messages scrubbed.
 * - Pages page on the server and read only indexed ranges: queue figures from queueStats,
 *   dead letters one cursor page of an index (by destination, code, date), one dead letter
 *   and its attempts by id, a dossier by its key, log entries by time window; the indicator
 *   drill-down and reconciliation read one period of one agency on request.
 */
import { actOnOne } from '../delivery/dlq.js'
import { createHmac, timingSafeEqual, type X509Certificate } from 'node:crypto'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { GatewayConfig } from '../../schemas/types.js'
import { activityOf } from '../activity.js'
import { evidenceOf } from '../crypto/evidence.js'
import type { LogEntry } from '../crypto/message-log.js'
import { sha256Hex } from '../crypto/message-log.js'
import type { GatewaySigning } from '../crypto/signing.js'
import { TokenSigner } from '../crypto/token.js'
import type { Delivery } from '../delivery/index.js'
import { deliveryErrors, lgspError } from '../errors.js'
import { WorkingCalendar } from '../ledger/dates.js'
import { countIndicators, indicatorDefs, parsePeriod, type DossierFacts, type IndicatorKey, type IndicatorReport } from '../ledger/indicators.js'
import { redactPaths, scrub } from '../logger.js'
import type { Member, Members } from '../members.js'
import { activeMember, requireAdmin } from '../plugins/auth.js'
import type { Payments } from '../payments.js'
import { projectRoot } from '../paths.js'
import type { Statistics } from '../statistics.js'
import { deadCursor } from '../store/shared.js'
import type { DeadFilter, DeadLetter, Store } from '../store/types.js'
import { vnDate } from '../ledger/dates.js'

/** What the console reads. */
export interface ConsoleDeps {
  config: GatewayConfig
  store: Store
  members: Members
  delivery?: Delivery | undefined
  statistics?: Statistics | undefined
  payments?: Payments | undefined
  signing?: GatewaySigning | undefined
}

const COOKIE = 'lgsp_console'
const SESSION_SECONDS = 8 * 3600
const MASK = '[redacted]'
const DAY = 86_400_000
/** A certificate this close to its end is flagged. */
const WARN_DAYS = 30

// The log's redaction list: its top-level field names (gateway/logger.ts).
const sensitive = new Set(redactPaths.filter((p) => !p.includes('.') && !p.includes('[')).map((p) => p.toLowerCase()))
// Free-text fields that may quote anything an upstream or an officer wrote.
const freeText = new Set(['error', 'lasterror', 'message', 'detail', 'noidungxuly', 'trichyeuhoso', 'reason'])
// Whole values shaped like personal data, whatever the field: CCCD/CMND, a phone, an e-mail.
const looksPersonal = (s: string): boolean => /^\d{9}$|^\d{12}$/.test(s) || /^(\+?84|0)\d{9,10}$/.test(s.replace(/[ .-]/g, '')) || /^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$/.test(s)

/** Masks personal data in a value for the console (deep copy). */
export function maskForConsole (v: unknown, key = ''): unknown {
  const k = key.toLowerCase()
  if (typeof v === 'string') {
    if (sensitive.has(k) || looksPersonal(v.trim())) return MASK
    return freeText.has(k) ? scrub(v, 2000) : v
  }
  if (Array.isArray(v)) return v.map((x) => maskForConsole(x, key))
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([kk, x]) => [kk, sensitive.has(kk.toLowerCase()) && x !== null && x !== undefined ? MASK : maskForConsole(x, kk)]))
  }
  return v
}

/** A logged body for display: JSON masked field by field, XML by element name, anything else scrubbed. */
function maskBody (body: string | null): unknown {
  if (body === null) return null
  try {
    return maskForConsole(JSON.parse(body))
  } catch {
    const names = [...sensitive].join('|')
    return scrub(body.replace(new RegExp(`<((?:[\\w-]+:)?(?:${names}))(\\s[^>]*)?>[^<]*</\\1>`, 'gi'), `<$1$2>${MASK}</$1>`), 20_000)
  }
}

const parseCookies = (header: string | undefined): Map<string, string> => {
  const out = new Map<string, string>()
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=')
    if (i > 0) out.set(part.slice(0, i).trim(), decodeURIComponent(part.slice(i + 1).trim()))
  }
  return out
}

const staticTypes: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml' }

const positiveInt = (v: unknown, name: string, dflt: number, max: number): number => {
  if (v === undefined || v === '') return dflt
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', `${name} is an integer from 0 to ${max}.`)
  return n
}

const dateParam = (v: unknown, name: string): number | undefined => {
  if (v === undefined || v === '') return undefined
  const t = Date.parse(String(v))
  if (Number.isNaN(t)) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', `${name} is a date (yyyy-MM-dd).`)
  return t
}

/** A Vietnam day (yyyy-MM-dd, as the date inputs give it) to the instant it starts. */
const vnDayParam = (v: unknown, name: string): number | undefined => {
  if (v === undefined || v === '') return undefined
  const t = /^\d{4}-\d{2}-\d{2}$/.test(String(v)) ? Date.parse(`${String(v)}T00:00:00+07:00`) : Number.NaN
  if (Number.isNaN(t)) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', `${name} is a date (yyyy-MM-dd).`)
  return t
}

const certInfo = (c: X509Certificate, now: number): Record<string, unknown> => {
  const until = Date.parse(c.validTo)
  const daysLeft = Math.floor((until - now) / DAY)
  return { subject: c.subject.replace(/\n/g, ', '), issuer: c.issuer.replace(/\n/g, ', '), serial: c.serialNumber, validFrom: new Date(Date.parse(c.validFrom)).toISOString(), validTo: new Date(until).toISOString(), daysLeft, warn: daysLeft <= WARN_DAYS, expired: until < now, fingerprint: c.fingerprint256 }
}

/** Why a dossier counts (or not) for an indicator, from its facts. */
function reasonOf (key: IndicatorKey, f: DossierFacts, judgeAt: number, inNumerator: boolean, calendar: WorkingCalendar): { vi: string, en: string } {
  switch (key) {
    case 'onTime': {
      if (f.supplements > 1) return { vi: `yêu cầu bổ sung ${f.supplements} lần`, en: `supplement requested ${f.supplements} times` }
      if (f.dueAt === null) return { vi: 'không có ngày hẹn trả', en: 'no due date' }
      const end = f.endedAt !== null && f.endedAt < judgeAt ? f.endedAt : judgeAt
      const due = f.dueAt + f.pausedMs + (f.pauseSince !== null && f.pauseSince < end ? end - f.pauseSince : 0)
      if (inNumerator) return f.endedAt !== null && f.endedAt < judgeAt ? { vi: 'trả kết quả đúng hạn', en: 'finished on time' } : { vi: 'đang xử lý, còn trong hạn', en: 'in progress, not yet due' }
      if (end <= due) return { vi: 'trễ hạn', en: 'late' }
      // In working days (the calendar's weekends, holidays and make-up days), as the law counts a dossier's time.
      const days = calendar.workingDaysAfter(due, end)
      if (days === 0) return { vi: 'trễ hạn chưa đến 1 ngày làm việc', en: 'late by less than a working day' }
      return { vi: `trễ hạn ${days} ngày làm việc`, en: `late by ${days} working day${days === 1 ? '' : 's'}` }
    }
    case 'dossierSync': return inNumerator ? { vi: 'đã đồng bộ lên DVCQG', en: 'held by DVCQG' } : { vi: 'chưa đồng bộ lên DVCQG', en: 'not yet at DVCQG' }
    case 'onlineSubmission': return inNumerator ? { vi: 'nộp trực tuyến', en: 'submitted online' } : { vi: 'nộp trực tiếp', en: 'submitted in person' }
    case 'paidOnline': return inNumerator ? { vi: 'đã thanh toán trực tuyến', en: 'paid online' } : { vi: 'chưa thanh toán trực tuyến', en: 'not paid online' }
    case 'digitisedResults': return inNumerator ? { vi: 'kết quả đã số hóa', en: 'result digitised' } : { vi: 'kết quả chưa số hóa', en: 'result not digitised' }
    case 'reuse': return inNumerator ? { vi: 'tái sử dụng dữ liệu số hóa', en: 'reused digitised data' } : { vi: 'không tái sử dụng', en: 'no reuse' }
  }
}

/** A revision's figures without its drill-down lists (every dossier of the period). */
const figuresOf = (r: IndicatorReport): IndicatorReport => ({ ...r, indicators: r.indicators.map(({ dossiers: _d, ...rest }) => rest) })

/** What changed in a revision, per indicator: the counts, and the first dossiers added or removed on each side. */
function changesOf (changes: unknown): unknown[] {
  const SHOWN = 10
  const list = (xs: unknown): { count: number, first: string[] } => {
    const a = Array.isArray(xs) ? xs.map(String) : []
    return { count: a.length, first: a.slice(0, SHOWN) }
  }
  return (Array.isArray(changes) ? changes : []).map((c: { indicator?: string, before?: unknown, after?: unknown, numerator?: { added?: unknown, removed?: unknown }, denominator?: { added?: unknown, removed?: unknown } }) => ({
    indicator: c.indicator,
    before: c.before,
    after: c.after,
    numerator: { added: list(c.numerator?.added), removed: list(c.numerator?.removed) },
    denominator: { added: list(c.denominator?.added), removed: list(c.denominator?.removed) }
  }))
}

/**
 * What each console route is, for the OpenAPI document (tag `console`): the console's own back
 * end, behind its cookie session and CSRF check, not an integration contract.
 */
const consoleSummaries: Record<string, string> = {
  'GET /console': 'The operator console (redirects to /console/)',
  'GET /console/': 'The operator console\'s page',
  'GET /console/vendor/:file': 'The console\'s third-party scripts (uPlot)',
  'GET /console/:file': 'The console\'s scripts and styles',
  'POST /console/api/login': 'Log in with an operator member\'s id and secret: sets the HttpOnly session cookie, returns the CSRF token',
  'POST /console/api/logout': 'End the console session',
  'GET /console/api/session': 'Who is logged in, and the CSRF token',
  'GET /console/api/overview': 'Per destination: the last hour per minute, queues, breaker, pause; jobs\' last runs',
  'GET /console/api/dead': 'Dead letters in the order they died, filtered by destination, code and date; paged by cursor (`after`: the previous page\'s `next`)',
  'GET /console/api/dead/:id': 'One dead letter: the request as sent (masked), the answer, every attempt kept with it',
  'POST /console/api/dead/replay': 'Replay a selection of dead letters (written to the message log with the operator)',
  'POST /console/api/dead/discard': 'Discard a selection of dead letters with a reason (written to the message log)',
  'GET /console/api/dossier/:maHoSo': 'A dossier\'s trail: events, deliveries and attempts, signatures, payments (masked)',
  'GET /console/api/dossier/:maHoSo/evidence': 'A dossier\'s evidence bundle',
  'GET /console/api/indicators': 'Decision 766 figures of a period, province and agencies, beside every revision of the period once closed',
  'GET /console/api/indicators/drill': 'The dossiers behind one figure, each with its reason',
  'GET /console/api/reconcile': 'Differences with DVCQG for a period',
  'POST /console/api/reconcile': 'Repair the differences with DVCQG (written to the message log)',
  'POST /console/api/reconcile/onestop': 'Compare a one-stop\'s own list of a period\'s dossiers (as it would send to /v1/reconcile/onestop) with what the gateway holds of that member\'s dossiers',
  'GET /console/api/payments': 'Payments awaiting a result, and the day\'s settlement report',
  'GET /console/api/members': 'Members, their rights and certificates (expiry, CRL status)'
}

export function consoleRoutes (app: FastifyInstance, deps: ConsoleDeps): void {
  // Each console route says what it is in the OpenAPI document.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const summary = consoleSummaries[`${methods.find((m) => m !== 'HEAD') ?? ''} ${route.url}`]
    if (summary !== undefined) route.schema = { tags: ['console'], summary, ...route.schema }
  })
  const { config, store } = deps
  const secret = config.auth.tokenSecret!
  const sessions = new TokenSigner(secret, `${config.auth.issuer}/console`, SESSION_SECONDS)
  const csrfOf = (session: string): string => createHmac('sha256', secret).update('console-csrf\0').update(session).digest('base64url')
  const activity = activityOf(store)
  const calendar = new WorkingCalendar(config.calendar)
  const dir = join(projectRoot, 'console')
  const vendor: Record<string, string> = {
    'uplot.js': join(projectRoot, 'node_modules', 'uplot', 'dist', 'uPlot.iife.min.js'),
    'uplot.css': join(projectRoot, 'node_modules', 'uplot', 'dist', 'uPlot.min.css')
  }

  const sendFile = (reply: FastifyReply, path: string): FastifyReply => {
    if (!existsSync(path)) throw lgspError('LGSP_ERR_REQUEST_NOT_FOUND')
    const ext = path.slice(path.lastIndexOf('.'))
    return reply
      .header('content-type', staticTypes[ext] ?? 'application/octet-stream')
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
      .send(readFileSync(path))
  }

  app.get('/console', async (_req, reply) => reply.redirect('/console/'))
  app.get('/console/', async (_req, reply) => sendFile(reply, join(dir, 'index.html')))
  app.get('/console/vendor/:file', async (req, reply) => {
    const path = vendor[(req.params as { file: string }).file]
    if (path === undefined) throw lgspError('LGSP_ERR_REQUEST_NOT_FOUND')
    return sendFile(reply, path)
  })
  app.get('/console/:file', async (req, reply) => {
    const file = (req.params as { file: string }).file
    // Only plain file names of the console folder: no paths, no dot files.
    if (!/^[a-z0-9][a-z0-9-]*\.(html|js|css|png|svg)$/.test(file)) throw lgspError('LGSP_ERR_REQUEST_NOT_FOUND')
    return sendFile(reply, join(dir, file))
  })

  const sameOrigin = (req: FastifyRequest): void => {
    const origin = req.headers.origin
    if (origin !== undefined && origin !== `${req.protocol}://${req.host}`) throw lgspError('LGSP_ERR_CONSOLE_CSRF', 'The request comes from another origin.')
  }

  const sessionCookie = (req: FastifyRequest, token: string, maxAge: number): string =>
    `${COOKIE}=${token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${req.protocol === 'https' ? '; Secure' : ''}`

  /** The operator of a console request; POSTs must also pass the CSRF checks. */
  const operator = async (req: FastifyRequest): Promise<void> => {
    const token = parseCookies(req.headers.cookie).get(COOKIE)
    if (token === undefined || token === '') throw lgspError('LGSP_ERR_CONSOLE_SESSION')
    let sub: string
    try {
      sub = sessions.verify(token).sub
    } catch {
      throw lgspError('LGSP_ERR_CONSOLE_SESSION', 'The session has expired or is not valid: log in again.')
    }
    const member = activeMember(deps.members, sub)
    requireAdmin(member)
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sameOrigin(req)
      const given = req.headers['x-csrf-token']
      const expected = Buffer.from(csrfOf(token))
      if (typeof given !== 'string' || given.length !== expected.length || !timingSafeEqual(Buffer.from(given), expected)) throw lgspError('LGSP_ERR_CONSOLE_CSRF', 'X-CSRF-Token is missing or does not match the session.')
    }
    req.member = member
  }
  const who = (req: FastifyRequest): Member => req.member!
  const pub = (m: Member): Record<string, unknown> => ({ id: m.id, name: m.name ?? m.id })

  app.post('/console/api/login', async (req, reply) => {
    sameOrigin(req)
    const b = (req.body ?? {}) as { id?: unknown, secret?: unknown }
    if (typeof b.id !== 'string' || typeof b.secret !== 'string') throw lgspError('LGSP_ERR_AUTH_INVALID_CLIENT', 'Send {"id", "secret"} of an operator member.')
    // Rate-limited per address like POST /token (a console login is a credentials check too).
    const member = await deps.members.authenticate(b.id, b.secret, req.ip)
    requireAdmin(member)
    const token = sessions.issue(member.id)
    req.member = member
    req.log.info({ by: member.id }, 'console login')
    reply.header('set-cookie', sessionCookie(req, token, SESSION_SECONDS))
    return { member: pub(member), csrf: csrfOf(token) }
  })

  app.post('/console/api/logout', async (req, reply) => {
    sameOrigin(req)
    reply.header('set-cookie', sessionCookie(req, '', 0))
    return { loggedOut: true }
  })

  app.get('/console/api/session', { preHandler: operator }, async (req) => {
    const token = parseCookies(req.headers.cookie).get(COOKIE)!
    return { member: pub(who(req)), csrf: csrfOf(token) }
  })

  // Overview: the store's queue figures (shared truth) beside this process's last hour.
  app.get('/console/api/overview', { preHandler: operator }, async () => {
    const now = Date.now()
    const workers = new Map((deps.delivery?.status() ?? []).map((w) => [w.destination, w]))
    const queues = await store.queueStats()
    const names = [...new Set([...Object.keys(config.destinations), ...queues.map((q) => q.destination)])]
    const destinations = names.map((name) => {
      const q = queues.find((x) => x.destination === name) ?? { destination: name, pending: 0, inflight: 0, dead: 0, delivered: 0, oldestAgeMs: 0 }
      const w = workers.get(name)
      const last = activity.lastOutcome(name)
      const breaker = w?.breaker ?? null
      // Red: the circuit is not closed, or the last attempt failed (nothing delivered since).
      const failing = breaker === 'open' || breaker === 'half-open' || (last.failedAt > last.deliveredAt && now - last.failedAt < 15 * 60_000)
      const status = failing ? 'red' : q.dead > 0 || q.oldestAgeMs > 5 * 60_000 ? 'amber' : 'green'
      return { ...q, adapter: config.destinations[name]?.adapter ?? null, breaker, breakerOpened: w?.breakerOpened ?? 0, running: w?.running ?? false, status, lastFailureAt: last.failedAt || null, lastFailureCode: last.code ?? null, lastDeliveredAt: last.deliveredAt || null, series: activity.series(name, now) }
    })
    return { now, destinations, jobs: activity.jobs(), store: store.kind }
  })

  // Dead letters: one page of the store's index for the filter, in the order they died; `next` continues it.
  app.get('/console/api/dead', { preHandler: operator }, async (req) => {
    const q = req.query as Record<string, string | undefined>
    const limit = Math.max(1, positiveInt(q.limit, 'limit', 50, 200))
    const filter: DeadFilter = { limit: limit + 1 }
    if (q.destination) filter.destination = q.destination
    if (q.maHoSo) filter.maHoSo = q.maHoSo.trim()
    if (q.code) filter.code = q.code.trim()
    const from = vnDayParam(q.from, 'from')
    const to = vnDayParam(q.to, 'to')
    if (from !== undefined) filter.from = from
    // The last day is included.
    if (to !== undefined) filter.to = to + DAY
    if (q.after) filter.after = q.after
    const page = await store.listDead(filter)
    const entries = page.slice(0, limit)
    return { limit, codes: Object.keys(deliveryErrors).sort(), next: page.length > limit ? deadCursor(entries.at(-1)!) : null, entries: maskForConsole(entries) }
  })

  const deadOf = async (id: number): Promise<DeadLetter> => {
    const d = await store.deadLetter(id)
    if (d === undefined) throw lgspError('LGSP_ERR_DLQ_NOT_FOUND', `No dead-letter entry ${id}.`)
    return d
  }

  const idOf = (v: unknown): number => {
    const id = Number(v)
    if (!Number.isSafeInteger(id) || id <= 0) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'The dead-letter id is a positive integer.')
    return id
  }

  /** Log entries of a message around a time (the log is indexed by time, not by message). */
  const logNear = async (messageId: string, fromAt: number, toAt: number): Promise<LogEntry[]> =>
    (await store.readLog({ fromAt, toAt })).filter((e) => e.messageId === messageId)

  const entryView = (e: LogEntry, withBody: boolean): Record<string, unknown> => {
    const base: Record<string, unknown> = { seq: e.seq, at: e.at, direction: e.direction, party: e.party, kind: e.kind, contentSha256: e.contentHash, signed: e.signature !== null }
    if (deps.signing !== undefined) {
      const ev = evidenceOf(e, deps.signing.identity.chain[0]!, deps.signing.trust)
      base.signature = ev.signature
    }
    if (withBody) base.body = maskBody(e.body)
    return base
  }

  app.get('/console/api/dead/:id', { preHandler: operator }, async (req) => {
    const id = idOf((req.params as { id: string }).id)
    const d = await deadOf(id)
    const dossier = await store.getDossier(d.maHoSo)
    const unit = dossier?.deliveries[d.destination]?.find((u) => u.id === d.id) ?? null
    const inbound = dossier?.history.find((h) => h.messageId === d.messageId)
    const received = inbound === undefined ? [] : await logNear(d.messageId, inbound.receivedAt, inbound.receivedAt)
    // What the gateway put on the wire for this destination (write-ahead: logged before each attempt).
    const sent = (await logNear(d.messageId, d.createdAt, d.failedAt)).filter((e) => e.direction === 'out' && e.party === d.destination)
    return maskForConsole({
      entry: d,
      unit,
      attempts: await store.attemptsOf(d.id),
      received: received.map((e) => entryView(e, true)),
      sent: sent.slice(-3).map((e) => entryView(e, true)),
      operatorActions: (await logNear(d.messageId, d.failedAt, Date.now())).filter((e) => e.kind.startsWith('console-')).map((e) => ({ ...entryView(e, true) }))
    })
  })

  /** Writes an operator's action to the message log (who, what, which unit), then acts. */
  // The same action as the API's and the CLI's (gateway/delivery/dlq.ts), logged as the console's.
  const act = async (req: FastifyRequest, action: 'replay' | 'discard', ids: number[], reason: string | undefined): Promise<Array<{ id: number, ok: boolean }>> => {
    const by = who(req).id
    const results: Array<{ id: number, ok: boolean }> = []
    for (const id of ids) {
      const done = await actOnOne(store, action, id, by, reason ?? 'replayed from the console', Date.now(), 'console')
      if (done !== undefined) req.log.info({ unit: id, by }, action === 'replay' ? 'dead letter replayed' : 'dead letter discarded')
      results.push({ id, ok: done !== undefined })
    }
    deps.delivery?.notify()
    return results
  }

  const idsOf = (body: unknown): number[] => {
    const ids = (body as { ids?: unknown } | null)?.ids
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 200) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'ids is a list of 1 to 200 dead-letter ids.')
    return ids.map(idOf)
  }

  app.post('/console/api/dead/replay', { preHandler: operator }, async (req) => ({ results: await act(req, 'replay', idsOf(req.body), undefined) }))

  app.post('/console/api/dead/discard', { preHandler: operator }, async (req) => {
    const reason = (req.body as { reason?: unknown }).reason
    if (typeof reason !== 'string' || reason.trim().length < 3 || reason.length > 500) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'reason: say why (3 to 500 characters).')
    return { results: await act(req, 'discard', idsOf(req.body), reason.trim()) }
  })

  /** The log entries of a dossier's messages: inbound at arrival, outbound up to delivery. */
  const dossierLog = async (maHoSo: string): Promise<{ view: NonNullable<Awaited<ReturnType<Store['getDossier']>>>, entries: LogEntry[] }> => {
    const view = await store.getDossier(maHoSo)
    if (view === undefined) throw lgspError('LGSP_ERR_DOSSIER_NOT_FOUND')
    const entries = new Map<number, LogEntry>()
    const ids = new Set(view.history.map((h) => h.messageId))
    for (const h of view.history) for (const e of await logNear(h.messageId, h.receivedAt, h.receivedAt)) entries.set(e.seq, e)
    for (const units of Object.values(view.deliveries)) {
      for (const u of units) {
        if (u.deliveredAt === null || !ids.has(u.messageId)) continue
        const at = Date.parse(u.deliveredAt)
        for (const e of await logNear(u.messageId, at - 10_000, at)) if (e.direction === 'out') entries.set(e.seq, e)
      }
    }
    return { view, entries: [...entries.values()].sort((a, b) => a.seq - b.seq) }
  }

  app.get('/console/api/dossier/:maHoSo', { preHandler: operator }, async (req) => {
    const maHoSo = (req.params as { maHoSo: string }).maHoSo.trim()
    const { view, entries } = await dossierLog(maHoSo)
    const paid = await store.paidPaymentOf(maHoSo)
    return maskForConsole({
      maHoSo,
      state: view.row.state,
      owner: view.row.owner,
      maTTHC: view.row.maTTHC,
      lastEventAt: view.row.lastEventAt,
      updatedAt: view.row.updatedAt,
      record: view.row.record,
      history: view.history,
      deliveries: Object.fromEntries(await Promise.all(Object.entries(view.deliveries).map(async ([dest, units]) =>
        [dest, await Promise.all(units.map(async (u) => ({ ...u, attemptsSeen: await store.attemptsOf(u.id) })))]))),
      log: entries.map((e) => entryView(e, false)),
      payment: paid ?? null,
      evidence: deps.signing !== undefined && entries.length > 0
    })
  })

  // The evidence bundle: every log entry of the dossier's messages with its signature checked again.
  app.get('/console/api/dossier/:maHoSo/evidence', { preHandler: operator }, async (req, reply) => {
    if (deps.signing === undefined) throw lgspError('LGSP_ERR_REQUEST_NOT_FOUND', 'Signatures are not configured on this gateway.')
    const maHoSo = (req.params as { maHoSo: string }).maHoSo.trim()
    const { entries } = await dossierLog(maHoSo)
    const cert = deps.signing.identity.chain[0]!
    reply.header('content-disposition', `attachment; filename="evidence-${maHoSo.replace(/[^A-Za-z0-9.-]/g, '_')}.json"`)
    req.log.info({ maHoSo, by: who(req).id, entries: entries.length }, 'evidence exported')
    return { maHoSo, exportedAt: new Date().toISOString(), exportedBy: who(req).id, gatewayCertificate: deps.signing.certPem, entries: entries.map((e) => ({ ...evidenceOf(e, cert, deps.signing!.trust), messageId: e.messageId })) }
  })

  const agencies = (): Array<{ code: string, name: string | null, parent: string | null }> => {
    const list = config.agencies.map((a) => ({ code: a.code, name: a.name ?? null, parent: a.parent ?? null }))
    const province = /\.(H\d{2})$/.exec(list[0]?.code ?? (config.destinations.dvcqg as { madonvi?: string } | undefined)?.madonvi ?? '')?.[1] ?? 'H56'
    const code = `000.00.00.${province}`
    return list.some((a) => a.code === code) ? list : [{ code, name: null, parent: null }, ...list]
  }

  const stats = (): Statistics => {
    if (deps.statistics === undefined) throw lgspError('LGSP_ERR_REQUEST_NOT_FOUND', 'Indicators are off (indicators.enabled).')
    return deps.statistics
  }

  const periodOf = (v: unknown): string => {
    const p = typeof v === 'string' && v !== '' ? v : vnDate().slice(0, 7)
    parsePeriod(p)
    return p
  }

  // A period's figures for every agency (the store sums them: no rows read), beside every revision of the period once closed.
  app.get('/console/api/indicators', { preHandler: operator }, async (req) => {
    const s = stats()
    const period = periodOf((req.query as { period?: string }).period)
    const rows = []
    for (const a of agencies()) {
      const current = await s.report(a.code, period, false)
      const revisions = (await store.revisions(a.code, period)).map((r) => ({ revision: r.revision, createdAt: r.createdAt, report: figuresOf(r.report as IndicatorReport), changes: changesOf(r.changes) }))
      rows.push({ ...a, current, revisions })
    }
    return { period, indicators: indicatorDefs, agencies: rows }
  })

  // The dossiers behind one figure, with the reason each counts or not; paged.
  app.get('/console/api/indicators/drill', { preHandler: operator }, async (req) => {
    const q = req.query as Record<string, string | undefined>
    const s = stats()
    const period = parsePeriod(periodOf(q.period))
    const agency = q.agency ?? ''
    const key = q.key as IndicatorKey
    if (!indicatorDefs.some((d) => d.key === key)) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', `key is one of ${indicatorDefs.map((d) => d.key).join(', ')}.`)
    const side = q.side === 'numerator' ? 'numerator' : 'denominator'
    const offset = positiveInt(q.offset, 'offset', 0, 10_000_000)
    const limit = Math.max(1, positiveInt(q.limit, 'limit', 50, 200))
    const facts = await store.factsFor(s.scopeOf(agency), period.from, period.to)
    const part = countIndicators(period, facts).parts[key]
    const num = new Set(part.num.map((f) => f.maHoSo))
    const list = (side === 'numerator' ? part.num : part.den).slice().sort((a, b) => a.maHoSo.localeCompare(b.maHoSo))
    const dossiers = list.slice(offset, offset + limit).map((f) => ({ maHoSo: f.maHoSo, state: f.state, receivedAt: f.receivedAt, dueAt: f.dueAt, endedAt: f.endedAt, counted: num.has(f.maHoSo), reason: reasonOf(key, f, period.to, num.has(f.maHoSo), calendar) }))
    return { agency, period: period.label, key, name: indicatorDefs.find((d) => d.key === key)!.name, side, numerator: part.num.length, denominator: part.den.length, total: list.length, offset, limit, dossiers }
  })

  // Reconciliation with DVCQG: a dry run on GET; the repair re-sends exactly the differences.
  app.get('/console/api/reconcile', { preHandler: operator }, async (req) => {
    const q = req.query as { agency?: string, period?: string }
    return maskForConsole(await stats().reconcile(q.agency ?? agencies()[0]!.code, periodOf(q.period), false))
  })

  app.post('/console/api/reconcile', { preHandler: operator }, async (req) => {
    const b = (req.body ?? {}) as { agency?: string, period?: string }
    const agency = b.agency ?? agencies()[0]!.code
    const period = periodOf(b.period)
    const report = await stats().reconcile(agency, period, true)
    const body = JSON.stringify({ action: 'reconcile-repair', agency, period, repaired: report.repaired, by: who(req).id })
    await store.appendLog([{ at: Date.now(), direction: 'in', party: who(req).id, kind: 'console-reconcile', messageId: `reconcile:${agency}:${period}`, contentHash: sha256Hex(body), body, signature: null }])
    req.log.info({ agency, period, repaired: report.repaired, by: who(req).id }, 'reconciliation repaired')
    return maskForConsole(report)
  })

  // The one-stop comparison on the operator's behalf: the list a one-stop exported, compared with the dossiers that member sent.
  // Nothing is written: the gateway cannot repair the one-stop's side; the page says what each difference asks of whom.
  app.post('/console/api/reconcile/onestop', { preHandler: operator }, async (req) => {
    const b = (req.body ?? {}) as { member?: unknown, agency?: unknown, period?: unknown, dossiers?: unknown }
    const member = config.members.find((m) => m.id === b.member && m.messageKinds.includes('dossier'))
    if (member === undefined) throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'member is the id of a member that sends dossiers (a one-stop).')
    if (!Array.isArray(b.dossiers) || b.dossiers.length > 200_000 || !b.dossiers.every((d: { MaHoSo?: unknown, TrangThaiHoSo?: unknown }) =>
      d !== null && typeof d === 'object' && typeof d.MaHoSo === 'string' && d.MaHoSo.length <= 100 && (typeof d.TrangThaiHoSo === 'number' || (typeof d.TrangThaiHoSo === 'string' && /^\d{1,2}$/.test(d.TrangThaiHoSo))))) {
      throw lgspError('LGSP_ERR_REQUEST_BAD_PARAMETER', 'dossiers is a list (at most 200000) of {"MaHoSo", "TrangThaiHoSo"}.')
    }
    const agency = typeof b.agency === 'string' && b.agency !== '' ? b.agency : agencies()[0]!.code
    const report = await stats().reconcileOnestop(member.id, agency, periodOf(b.period), b.dossiers as Array<{ MaHoSo: string, TrangThaiHoSo: number | string }>)
    req.log.info({ member: member.id, agency, period: report.period, differences: report.differences.length, by: who(req).id }, 'one-stop list compared')
    return maskForConsole(report)
  })

  // Payments: awaiting PayGov's result, awaiting their effect, and the settlement report of a range.
  app.get('/console/api/payments', { preHandler: operator }, async (req) => {
    const q = req.query as Record<string, string | undefined>
    const now = Date.now()
    const to = dateParam(q.to, 'to') ?? now
    const from = dateParam(q.from, 'from') ?? to - 30 * DAY
    const offset = positiveInt(q.offset, 'offset', 0, 10_000_000)
    const limit = Math.max(1, positiveInt(q.limit, 'limit', 50, 200))
    const report = deps.payments === undefined ? null : await store.settlement(from, to + (q.to === undefined ? 0 : DAY))
    return maskForConsole({
      configured: deps.payments !== undefined,
      awaitingResult: await store.duePayments(now, 100),
      awaitingEffect: await store.paymentsAwaitingEffect(100),
      settlement: report === null ? null : { ...report, payments: report.payments.slice(offset, offset + limit), paymentsTotal: report.payments.length, offset, limit }
    })
  })

  // Members (no secrets) and certificates: the gateway's own chain, the trust anchors and their CRLs.
  app.get('/console/api/members', { preHandler: operator }, async () => {
    const now = Date.now()
    const members = config.members.map((m) => ({
      id: m.id, name: m.name ?? null, enabled: m.enabled, admin: m.admin, read: m.read, messageKinds: m.messageKinds, destinations: m.destinations,
      signatureRequired: m.signature?.required ?? false, logBodies: m.logBodies
    }))
    const signing = deps.signing
    const gateway = signing === undefined ? [] : signing.identity.chain.map((c) => certInfo(c, now))
    const trust = signing === undefined
      ? []
      : signing.trust.anchors.map((a) => {
        const crl = signing.trust.crlOf(a)
        return { ...certInfo(a, now), crl: crl === undefined ? null : { thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate?.toISOString() ?? null, revoked: crl.serials.size, stale: crl.nextUpdate !== undefined && crl.nextUpdate.getTime() < now } }
      })
    return { members, certificates: { gateway, trust, warnDays: WARN_DAYS } }
  })
}
