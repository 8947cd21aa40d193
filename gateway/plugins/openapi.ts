/**
 * The API contract: OpenAPI 3.1 at GET /openapi.json and a reference page at /docs
 * (@fastify/swagger, @fastify/swagger-ui), built from the route schemas below.
 *
 * Request bodies are the JSON Schemas intake validates with (schemas/*.schema.json, the
 * files validation.ts compiles), added to fastify by their `$id` and referenced from the
 * routes; the document names them as components. Fastify itself neither validates nor
 * serialises with these schemas (a pass-through validator and JSON.stringify): intake keeps
 * its own checks (normalisation first, then checkSchema) and its error codes, and replies
 * go out exactly as the handlers build them. The schemas here describe; they change nothing.
 *
 * Every refusal is application/problem+json (RFC 9457) with a stable `code`; each route
 * lists the codes it can answer with, per HTTP status, as an enum on `code`.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, FastifySchema } from 'fastify'
import type { RouteDocs } from '../../adapters/component.js'
import type { GatewayConfig } from '../../schemas/types.js'
import { errorTable, type ErrorCode } from '../errors.js'
import { projectRoot, schemaDir } from '../paths.js'
import { warningTable } from '../warnings.js'

const SCHEMA_BASE = 'https://lgsp.gov.vn/schemas/'
const DOC_BASE = 'https://lgsp.gov.vn/openapi/'

/** The message schemas intake validates with, and their component names. */
const messageSchemas = {
  common: 'Common',
  hoso: 'HoSo',
  'qua-trinh-xu-ly': 'QuaTrinhXuLy',
  'dossier-request': 'DossierRequest',
  'progress-request': 'ProgressRequest',
  'payment-request': 'PaymentRequest',
  'paygov-callback': 'PaygovCallback',
  'onestop-reconcile': 'OnestopReconcileRequest'
} as const

/** `$ref` to a message schema (by its `$id`, as validation.ts knows it). */
const message = (file: keyof typeof messageSchemas, pointer = ''): { $ref: string } => ({ $ref: `${SCHEMA_BASE}${file}.schema.json${pointer === '' ? '' : `#${pointer}`}` })
/** `$ref` to one of the reply schemas below. */
const doc = (name: keyof typeof replySchemas): { $ref: string } => ({ $ref: `${DOC_BASE}${name}` })

/**
 * A message schema as fastify gets it: relative references made absolute, so they resolve
 * without a base URI in the document (`hoso.schema.json` → its `$id`).
 */
function loadMessageSchema (file: string): Record<string, unknown> {
  const text = readFileSync(`${schemaDir}/${file}.schema.json`, 'utf8')
  return JSON.parse(text.replace(/"\$ref": "([a-z-]+\.schema\.json)/g, (_m, name: string) => `"$ref": "${SCHEMA_BASE}${name}`)) as Record<string, unknown>
}

const errorCodes = Object.keys(errorTable) as ErrorCode[]
const warningCodes = Object.keys(warningTable)
const text = { type: 'string' }
const isoTime = { type: 'string', format: 'date-time' }
const object = (properties: Record<string, unknown>, required: string[] = [], more: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ type: 'object', properties, required, ...more })

/** The shapes of the gateway's replies (the handlers build them; these describe them). */
const replySchemas = {
  Problem: object({
    type: { type: 'string', format: 'uri', description: 'https://lgsp.gov.vn/errors/<code>' },
    title: { type: 'string', description: 'Fixed title of the code (README "Errors").' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    code: { enum: errorCodes, description: 'Stable error code: branch on this.' },
    detail: { type: 'string', description: 'What was wrong with this request, and how to fix it.' },
    requestId: { type: 'string', description: 'Give it to the provincial IT team: every log line of the request carries it.' },
    errors: { type: 'array', description: 'Schema failures: where and what, never the value sent.', items: object({ path: text, message: text }, ['path', 'message']) }
  }, ['type', 'title', 'status', 'code', 'detail', 'requestId'], { title: 'Problem', description: 'RFC 9457 problem document; extra members depend on the code.' }),
  Warning: object({
    code: { enum: warningCodes },
    path: { type: 'string', description: 'JSON pointer into the body as sent.' },
    message: text
  }, ['code', 'path', 'message'], { title: 'Warning', description: 'Something intake normalised or decided on the sender\'s behalf (README "Warnings").' }),
  Outcome: object({
    index: { type: 'integer', minimum: 0, description: 'Position in the body as sent (0 for a single object).' },
    MaHoSo: text,
    outcome: { enum: ['applied', 'history', 'refused'], description: 'applied: the status moved (or stayed); history: kept in the history without moving the status back; refused: neither applied nor delivered.' },
    code: { enum: ['LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION'] },
    detail: text,
    from: { type: ['integer', 'null'] },
    to: { type: 'integer' }
  }, ['index', 'MaHoSo', 'outcome'], { title: 'Outcome' }),
  Receipt: object({
    statement: object({
      type: text,
      messageId: text,
      receivedAt: isoTime,
      sender: text,
      kind: { type: 'string', description: 'dossier, progress, payment, repair, or a component\'s notice kind (tax-notice, …).' },
      contentSha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      destinations: { type: 'array', items: text }
    }, ['type', 'messageId', 'receivedAt', 'sender', 'kind', 'contentSha256', 'destinations']),
    signature: { type: 'string', description: 'Detached JWS by the gateway (a single message, or a batch\'s Merkle root).' },
    proof: object({ index: { type: 'integer' }, size: { type: 'integer' }, path: { type: 'array', items: text } }, ['index', 'size', 'path'])
  }, ['statement', 'signature'], { title: 'Receipt', description: 'Signed receipt (README "Signatures, receipts and the message log").' }),
  AcceptReply: object({
    messageId: { type: 'string', description: 'UUIDv7 of the message in the message log.' },
    receivedAt: isoTime,
    destinations: { type: 'array', items: text, description: 'Where the message goes.' },
    outcomes: { type: 'array', items: { $ref: `${DOC_BASE}Outcome` } },
    warnings: { type: 'array', items: { $ref: `${DOC_BASE}Warning` }, description: 'The first warnings (warningCounts has them all).' },
    warningCounts: { type: 'object', propertyNames: { enum: warningCodes }, additionalProperties: { type: 'integer', minimum: 1 } },
    receipt: { $ref: `${DOC_BASE}Receipt` }
  }, ['messageId', 'receivedAt', 'destinations'], { title: 'AcceptReply', description: 'The message is committed: it will reach every destination listed. A repeat (same Idempotency-Key, or same content without one) gets the first reply again with Idempotent-Replayed: true.' }),
  Unit: object({
    id: { type: 'integer' },
    messageId: text,
    op: text,
    state: { enum: ['pending', 'inflight', 'retrying', 'dead', 'blocked', 'delivered', 'discarded'] },
    attempts: { type: 'integer' },
    lastErrorCode: { type: ['string', 'null'] },
    lastError: { type: ['string', 'null'] },
    nextAttemptAt: { type: ['string', 'null'] },
    deliveredAt: { type: ['string', 'null'] }
  }, ['id', 'messageId', 'op', 'state', 'attempts'], { title: 'Unit' }),
  DossierView: object({
    MaHoSo: message('common', '/$defs/MaHoSo'),
    MaTTHC: text,
    TrangThaiHoSo: { type: 'integer', minimum: 1, maximum: 10 },
    stateName: text,
    owner: { type: 'string', description: 'The member that sent the dossier.' },
    createdAt: isoTime,
    updatedAt: isoTime,
    record: { type: 'object', description: 'The HoSo record as the ledger keeps it (normalised).' },
    history: {
      type: 'array',
      items: object({
        messageId: text,
        kind: text,
        at: message('common', '/$defs/DvcqgDateTime'),
        receivedAt: isoTime,
        from: { type: ['integer', 'null'] },
        to: { type: 'integer' },
        applied: { type: 'boolean' },
        sender: text
      }, ['messageId', 'kind', 'at', 'receivedAt', 'to', 'applied', 'sender'])
    },
    deliveries: {
      type: 'object',
      description: 'Per destination: a summary state and its units.',
      additionalProperties: object({
        state: { enum: ['delivered', 'pending', 'inflight', 'retrying', 'dead', 'blocked'] },
        units: { type: 'array', items: { $ref: `${DOC_BASE}Unit` } }
      }, ['state', 'units'])
    }
  }, ['MaHoSo', 'MaTTHC', 'TrangThaiHoSo', 'stateName', 'owner', 'createdAt', 'updatedAt', 'record', 'history', 'deliveries'], { title: 'DossierView' }),
  Token: object({
    access_token: text,
    token_type: { const: 'Bearer' },
    expires_in: { type: 'integer', minimum: 1 }
  }, ['access_token', 'token_type', 'expires_in'], { title: 'Token', description: 'OAuth2 token reply (RFC 6749 §5.1).' }),
  TokenError: {
    title: 'TokenError',
    description: 'A problem document that also carries OAuth2\'s `error` (RFC 6749 §5.2) when the grant type is wrong.',
    allOf: [{ $ref: `${DOC_BASE}Problem` }],
    properties: { error: text }
  },
  QueueStats: {
    title: 'QueueStats',
    type: 'array',
    items: object({
      destination: text,
      pending: { type: 'integer' },
      inflight: { type: 'integer' },
      dead: { type: 'integer' },
      delivered: { type: 'integer' },
      oldestAgeMs: { type: 'integer', description: 'Age of the oldest undelivered unit, ms; 0 when none.' },
      worker: { type: ['object', 'null'], description: 'This instance\'s worker: running, inflight, breaker (closed, half-open, open), breakerOpened, delivered, failedAttempts.' }
    }, ['destination', 'pending', 'inflight', 'dead', 'delivered', 'oldestAgeMs', 'worker'])
  },
  DeadLetters: object({
    entries: {
      type: 'array',
      items: object({
        id: { type: 'integer' },
        destination: text,
        maHoSo: text,
        messageId: text,
        op: text,
        attempts: { type: 'integer' },
        code: text,
        error: text,
        createdAt: { type: 'integer', description: 'ms since the epoch' },
        failedAt: { type: 'integer', description: 'ms since the epoch' },
        blocked: { type: 'integer', description: 'Later units of the dossier held back behind this one.' }
      }, ['id', 'destination', 'maHoSo', 'messageId', 'op', 'attempts', 'code', 'error', 'createdAt', 'failedAt', 'blocked'])
    }
  }, ['entries'], { title: 'DeadLetters' }),
  Normalisations: object({ since: isoTime, members: { type: 'object' } }, ['since', 'members'], { title: 'Normalisations' }),
  Indicators: object({
    closed: { type: 'boolean' },
    revision: { type: ['integer', 'null'] },
    report: { type: 'object', description: 'Decision 766 figures of the agency and period.' },
    changes: { type: 'array', description: 'GET on a closed period: what the current figures change against the latest revision, unsaved. POST close that revises: what the new revision changed. Per indicator: counts before and after, dossiers added and removed.' }
  }, ['closed', 'revision', 'report'], { title: 'Indicators' }),
  Payment: object({ MaThamChieu: text }, ['MaThamChieu'], { title: 'Payment', description: 'A payment: reference, status, PayGov URL and transaction (README "Online payments").' }),
  FacadeReply: object({
    error_code: { type: ['integer', 'string'], description: 'DVCQG\'s: 0 success; -1 invalid data, -2 session, -4 unknown dossier, -5 busy, -6 login refused, -7 not allowed, -8 service not served.' },
    message: text,
    code: { enum: errorCodes, description: 'lgsp\'s error code, beside DVCQG\'s error_code.' }
  }, ['error_code', 'message'], { title: 'FacadeReply', description: 'DVCQG\'s reply shape, always HTTP 200; lgsp\'s extras (code, messageId, warnings) are fields DVCQG clients ignore.' }),
  PaygovReply: object({
    MaLoi: { type: 'string', description: 'PayGov result code of the reply (success or refused).' },
    MoTaLoi: text,
    MaDoiTac: text,
    MaThamChieu: text,
    ThoiGianGD: text,
    MaXacThuc: text,
    code: { enum: errorCodes, description: 'lgsp\'s code when refused.' }
  }, ['MaLoi', 'MoTaLoi', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD', 'MaXacThuc'], { title: 'PaygovReply', description: 'The reply PayGov\'s IPN expects.' }),
  Health: object({ status: text }, ['status'], { title: 'Health' })
} as const

/** Problem responses, grouped by HTTP status, `code` restricted to what the route can answer. */
function problems (codes: readonly ErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>()
  for (const c of new Set(codes)) {
    const status = errorTable[c].status
    byStatus.set(status, [...(byStatus.get(status) ?? []), c])
  }
  const out: Record<string, unknown> = {}
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    out[String(status)] = {
      description: list.map((c) => `${c}: ${errorTable[c].title}`).join('; '),
      content: { 'application/problem+json': { schema: { allOf: [doc('Problem')], properties: { code: { enum: list } } } } }
    }
  }
  return out
}

/** PayGov callback refusals: PayGov's reply shape (application/json) with lgsp's `code`, grouped by status. */
function callbackRefusals (codes: readonly ErrorCode[]): Record<string, unknown> {
  const out: Record<string, { description: string, content: Record<string, unknown> }> = {}
  for (const c of codes) {
    const status = String(errorTable[c].status)
    const entry = out[status] ??= { description: '', content: { 'application/json': { schema: { allOf: [doc('PaygovReply')], properties: { code: { enum: [] as string[] } } } } } }
    entry.description = entry.description === '' ? `${c}: ${errorTable[c].title}` : `${entry.description}; ${c}: ${errorTable[c].title}`
    ;((entry.content['application/json'] as { schema: { properties: { code: { enum: string[] } } } }).schema.properties.code.enum).push(c)
  }
  return out
}

/** Two sets of responses by status, the content types of a shared status side by side. */
function merge (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a }
  for (const [status, r] of Object.entries(b)) {
    const x = out[status] as { description: string, content: Record<string, unknown> } | undefined
    const y = r as { description: string, content: Record<string, unknown> }
    out[status] = x === undefined ? y : { description: `${x.description}; ${y.description}`, content: { ...x.content, ...y.content } }
  }
  return out
}

/** Any request can meet these: a body that is not JSON, too large, the gateway failing or closing. */
const BASE: ErrorCode[] = ['LGSP_ERR_REQUEST_MALFORMED', 'LGSP_ERR_REQUEST_MEDIA_TYPE', 'LGSP_ERR_REQUEST_TOO_LARGE', 'LGSP_ERR_SERVER_INTERNAL', 'LGSP_ERR_SERVER_UNAVAILABLE']
/** Bearer authentication (gateway/plugins/auth.ts), including members that must sign. */
const AUTH: ErrorCode[] = ['LGSP_ERR_AUTH_MISSING_TOKEN', 'LGSP_ERR_AUTH_INVALID_TOKEN', 'LGSP_ERR_AUTH_EXPIRED_TOKEN', 'LGSP_ERR_AUTH_LGSP_TOKEN_MALFORMED', 'LGSP_ERR_AUTH_MEMBER_DISABLED',
  'LGSP_ERR_SIGNATURE_MISSING', 'LGSP_ERR_SIGNATURE_MALFORMED', 'LGSP_ERR_SIGNATURE_INVALID', 'LGSP_ERR_SIGNATURE_UNTRUSTED', 'LGSP_ERR_SIGNATURE_EXPIRED', 'LGSP_ERR_SIGNATURE_REVOKED', 'LGSP_ERR_SIGNATURE_WRONG_MEMBER']
const ADMIN: ErrorCode[] = [...AUTH, 'LGSP_ERR_AUTH_ADMIN_REQUIRED']
/** Intake (gateway/intake.ts): what a dossier or progress message can be refused for. */
const INTAKE: ErrorCode[] = [...AUTH, 'LGSP_ERR_AUTH_KIND_FORBIDDEN', 'LGSP_ERR_AUTH_DESTINATION_FORBIDDEN', 'LGSP_ERR_REQUEST_INVALID', 'LGSP_ERR_REQUEST_INVALID_DATE',
  'LGSP_ERR_REQUEST_BAD_PARAMETER', 'LGSP_ERR_IDEMPOTENCY_KEY_INVALID', 'LGSP_ERR_IDEMPOTENCY_KEY_REUSED', 'LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION']

const json = (schema: unknown, description: string): Record<string, unknown> => ({ description, content: { 'application/json': { schema } } })
type Security = Array<Record<string, string[]>>
const bearer: Security = [{ bearer: [] }, { lgspaccesstoken: [] }]
const maHoSoParams = object({ maHoSo: message('common', '/$defs/MaHoSo') }, ['maHoSo'])
const idParams = object({ id: { type: 'integer', minimum: 1, description: 'Dead-letter id (GET /v1/admin/dlq).' } }, ['id'])
const intakeHeaders = object({
  'idempotency-key': { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$', description: 'Repeats with the same key get the first reply; without one, the same sender, dossiers and content are the same message.' },
  'x-lgsp-signature': { type: 'string', description: 'Detached JWS over the body, for members that sign (README "Signatures").' }
})
const agencyPeriod = object({
  agency: { type: 'string', description: 'MaDonVi, e.g. 000.00.00.H56 for the province.' },
  period: { type: 'string', description: 'yyyy-MM, yyyy-Qn or yyyy.' },
  drill: { type: 'boolean', description: 'List the dossiers behind each figure.' }
}, ['agency', 'period'])

/** An operator's reason for acting on dead letters (recorded in the message log). */
const reasonBody = (required: boolean): Record<string, unknown> => object({ reason: { type: 'string', minLength: 1, maxLength: 500 } }, required ? ['reason'] : [])
/** Which dead letters a bulk action takes (at least one filter) and why. */
const selectionBody = object({ destination: text, code: text, maHoSo: text, reason: { type: 'string', minLength: 1, maxLength: 500 } }, ['reason'])

/** What a component's routes document themselves with (adapters/component.ts RouteDocs). */
export const componentRouteDocs: RouteDocs = { problems, json, base: BASE, auth: AUTH }

/** The route schemas, one per route: `schema: routeDocs.<name>` in the route options. */
export const routeDocs = {
  token: {
    tags: ['auth'],
    summary: 'Get a bearer token (OAuth2 client credentials)',
    description: 'Member id and secret as HTTP Basic credentials (RFC 6749 §2.3.1), or the provincial `lgspaccesstoken` header. Body: grant_type=client_credentials, form-encoded or JSON.',
    body: object({ grant_type: { const: 'client_credentials' } }),
    security: [{ basic: [] }, { lgspaccesstoken: [] }] as Security,
    response: {
      200: json(doc('Token'), 'A token valid expires_in seconds.'),
      ...problems([...BASE, 'LGSP_ERR_AUTH_INVALID_CLIENT', 'LGSP_ERR_AUTH_MEMBER_DISABLED', 'LGSP_ERR_AUTH_LGSP_TOKEN_MALFORMED']),
      400: { description: 'LGSP_ERR_AUTH_UNSUPPORTED_GRANT: Unsupported grant type; LGSP_ERR_REQUEST_MALFORMED: Malformed request body', content: { 'application/problem+json': { schema: { allOf: [doc('TokenError')], properties: { code: { enum: ['LGSP_ERR_AUTH_UNSUPPORTED_GRANT', 'LGSP_ERR_REQUEST_MALFORMED'] } } } } } }
    }
  },
  postDossiers: {
    tags: ['dossiers'],
    summary: 'Send dossiers (HoSo): one record or an array of up to 100',
    description: 'Accepted when committed to the ledger and the outbox; delivered to every destination in order. `?destinations=a,b` picks among the member\'s destinations. Field forms real one-stop software sends are normalised first and reported in `warnings`.',
    querystring: object({ destinations: { type: 'string', description: 'Comma-separated destination names.' } }),
    headers: intakeHeaders,
    body: message('dossier-request'),
    security: bearer,
    response: {
      202: json(doc('AcceptReply'), 'Accepted (Location: /v1/dossiers/{MaHoSo} for a single record).'),
      ...problems([...BASE, ...INTAKE, 'LGSP_ERR_REQUEST_DATE_ORDER', 'LGSP_ERR_REQUEST_DUPLICATE_DOSSIER', 'LGSP_ERR_DOSSIER_UNKNOWN_PROCEDURE'])
    }
  },
  postProgress: {
    tags: ['dossiers'],
    summary: 'Send progress (QuaTrinhXuLy): one entry or an array',
    description: 'Applied and delivered in ThoiDiemXuLy order; an entry older than the dossier\'s status is kept as history.',
    params: maHoSoParams,
    querystring: object({ destinations: { type: 'string', description: 'Comma-separated destination names.' } }),
    headers: intakeHeaders,
    body: message('progress-request'),
    security: bearer,
    response: {
      202: json(doc('AcceptReply'), 'Accepted.'),
      ...problems([...BASE, ...INTAKE, 'LGSP_ERR_REQUEST_PATH_MISMATCH', 'LGSP_ERR_DOSSIER_NOT_FOUND'])
    }
  },
  getDossier: {
    tags: ['dossiers'],
    summary: 'A dossier as the gateway holds it: state, history, deliveries',
    params: maHoSoParams,
    security: bearer,
    response: {
      200: json(doc('DossierView'), 'The dossier.'),
      ...problems([...BASE, ...AUTH, 'LGSP_ERR_REQUEST_BAD_PARAMETER', 'LGSP_ERR_AUTH_READ_FORBIDDEN', 'LGSP_ERR_DOSSIER_NOT_FOUND'])
    }
  },
  queues: {
    tags: ['operators'],
    summary: 'Queues per destination, with this instance\'s worker and breaker',
    security: bearer,
    response: { 200: json(doc('QueueStats'), 'One entry per destination.'), ...problems([...BASE, ...ADMIN]) }
  },
  normalisations: {
    tags: ['operators'],
    summary: 'Normalisations intake made, per member and warning code, since start',
    security: bearer,
    response: { 200: json(doc('Normalisations'), 'Counts per member.'), ...problems([...BASE, ...ADMIN]) }
  },
  deadLetters: {
    tags: ['operators'],
    summary: 'Dead letters, with reason and how many units wait behind each',
    querystring: object({ destination: text, maHoSo: text, code: text, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } }),
    security: bearer,
    response: { 200: json(doc('DeadLetters'), 'Oldest first.'), ...problems([...BASE, ...ADMIN, 'LGSP_ERR_REQUEST_BAD_PARAMETER']) }
  },
  replay: {
    tags: ['operators'],
    summary: 'Put a dead letter back in its queue',
    params: idParams,
    security: bearer,
    body: reasonBody(false),
    response: { 200: json(object({ id: { type: 'integer' }, replayed: { const: true }, logMessageId: { type: ['string', 'null'] } }, ['id', 'replayed']), 'Queued again; the action is in the message log.'), ...problems([...BASE, ...ADMIN, 'LGSP_ERR_REQUEST_BAD_PARAMETER', 'LGSP_ERR_DLQ_NOT_FOUND']) }
  },
  bulkReplay: {
    tags: ['operators'],
    summary: 'Put back every dead letter of a destination, error code or dossier',
    body: selectionBody,
    security: bearer,
    response: { 200: json(object({ replayed: { type: 'integer' }, ids: { type: 'array', items: { type: 'integer' } }, logMessageId: { type: ['string', 'null'] } }, ['replayed', 'ids']), 'What was queued again.'), ...problems([...BASE, ...ADMIN, 'LGSP_ERR_REQUEST_BAD_PARAMETER', 'LGSP_ERR_DLQ_FILTER_REQUIRED', 'LGSP_ERR_DLQ_REASON_REQUIRED']) }
  },
  bulkDiscard: {
    tags: ['operators'],
    summary: 'Drop every dead letter of a destination, error code or dossier, with a reason',
    body: selectionBody,
    security: bearer,
    response: { 200: json(object({ discarded: { type: 'integer' }, ids: { type: 'array', items: { type: 'integer' } }, logMessageId: { type: ['string', 'null'] } }, ['discarded', 'ids']), 'What was dropped.'), ...problems([...BASE, ...ADMIN, 'LGSP_ERR_REQUEST_BAD_PARAMETER', 'LGSP_ERR_DLQ_FILTER_REQUIRED', 'LGSP_ERR_DLQ_REASON_REQUIRED']) }
  },
  resume: {
    tags: ['operators'],
    summary: 'Resume a destination paused because it refused the gateway\'s credentials',
    params: object({ name: text }, ['name']),
    security: bearer,
    response: { 200: json(object({ destination: text, resumed: { type: 'boolean' }, paused: { const: false } }, ['destination', 'resumed', 'paused']), 'Resumed (or was not paused).'), ...problems([...BASE, ...ADMIN, 'LGSP_ERR_DESTINATION_UNKNOWN']) }
  },
  discard: {
    tags: ['operators'],
    summary: 'Drop a dead letter so the dossier\'s later units flow',
    params: idParams,
    security: bearer,
    body: reasonBody(true),
    response: { 200: json(object({ id: { type: 'integer' }, discarded: { const: true }, logMessageId: { type: ['string', 'null'] } }, ['id', 'discarded']), 'Discarded; the action is in the message log.'), ...problems([...BASE, ...ADMIN, 'LGSP_ERR_REQUEST_BAD_PARAMETER', 'LGSP_ERR_DLQ_NOT_FOUND', 'LGSP_ERR_DLQ_REASON_REQUIRED']) }
  },
  postPayment: {
    tags: ['payments'],
    summary: 'Request an online payment (PayGov) for a dossier',
    headers: object({ 'idempotency-key': { type: 'string' } }),
    body: message('payment-request'),
    security: bearer,
    response: {
      200: json(doc('Payment'), 'A repeat (Idempotent-Replayed: true).'),
      201: json(doc('Payment'), 'Recorded and initialised at PayGov (Location: /v1/payments/{MaThamChieu}).'),
      ...problems([...BASE, ...AUTH, 'LGSP_ERR_AUTH_KIND_FORBIDDEN', 'LGSP_ERR_REQUEST_INVALID', 'LGSP_ERR_REQUEST_BAD_PARAMETER', 'LGSP_ERR_IDEMPOTENCY_KEY_INVALID', 'LGSP_ERR_IDEMPOTENCY_KEY_REUSED', 'LGSP_ERR_DOSSIER_NOT_FOUND',
        'LGSP_ERR_PAYMENT_NOTHING_TO_PAY', 'LGSP_ERR_PAYMENT_DOSSIER_FORBIDDEN', 'LGSP_ERR_PAYMENT_ALREADY_PAID', 'LGSP_ERR_PAYGOV_UNAVAILABLE', 'LGSP_ERR_PAYGOV_REJECTED'])
    }
  },
  settlement: {
    tags: ['payments'],
    summary: 'The day\'s settlement report',
    querystring: object({ date: { type: 'string', description: 'yyyy-MM-dd' } }),
    security: bearer,
    response: { 200: json({ type: 'object' }, 'Payments, orphans and mismatches of the day.'), ...problems([...BASE, ...AUTH, 'LGSP_ERR_AUTH_READ_FORBIDDEN', 'LGSP_ERR_REQUEST_BAD_PARAMETER']) }
  },
  getPayment: {
    tags: ['payments'],
    summary: 'A payment: status, transaction, how the result became known',
    params: object({ reference: { type: 'string', description: 'MaThamChieu' } }, ['reference']),
    security: bearer,
    response: { 200: json(doc('Payment'), 'The payment.'), ...problems([...BASE, ...AUTH, 'LGSP_ERR_AUTH_READ_FORBIDDEN', 'LGSP_ERR_PAYMENT_NOT_FOUND']) }
  },
  paygovCallback: {
    tags: ['payments'],
    summary: 'PayGov\'s payment result (IPN, protocol 1.0.6); authenticated by checksum and source address',
    description: 'Results, refusals included, are answered in PayGov\'s own reply format (application/json, MaLoi); only a body that is not JSON gets a problem document.',
    body: message('paygov-callback'),
    response: {
      200: json(doc('PaygovReply'), 'Recorded (MaLoi success).'),
      ...merge(problems(BASE), callbackRefusals(['LGSP_ERR_CALLBACK_SOURCE', 'LGSP_ERR_CALLBACK_MALFORMED', 'LGSP_ERR_CALLBACK_CHECKSUM', 'LGSP_ERR_CALLBACK_UNKNOWN_REFERENCE', 'LGSP_ERR_CALLBACK_AMOUNT_MISMATCH', 'LGSP_ERR_CALLBACK_PARTNER_MISMATCH']))
    }
    // The handler answers with the status PayGov's protocol gives each result.
  } as FastifySchema & { tags: string[], summary: string },
  indicators: {
    tags: ['statistics'],
    summary: 'Decision 766 figures (current, or the latest revision of a closed period)',
    description: 'A read only: for a closed period it answers the latest revision and, when a late event has moved the figures since, the pending `changes` (unsaved). POST /v1/indicators/close stores them as the next revision.',
    querystring: agencyPeriod,
    security: bearer,
    response: { 200: json(doc('Indicators'), 'The figures.'), ...problems([...BASE, ...AUTH, 'LGSP_ERR_AUTH_READ_FORBIDDEN', 'LGSP_ERR_INDICATORS_AGENCY', 'LGSP_ERR_INDICATORS_UNKNOWN_AGENCY', 'LGSP_ERR_REQUEST_BAD_PARAMETER']) }
  },
  indicatorDossiers: {
    tags: ['statistics'],
    summary: 'The dossiers behind one figure, paged: dates, their source fields, verdict and reason',
    description: 'Per dossier, in MaHoSo order: received, due and end dates (DVCQG format, with the field each came from), whether it is in the numerator or only the denominator, the on-time verdict and a reason ("late by 2 working days", "supplement requested twice", "no result file"), under the configured rule profile. format=csv answers the page as CSV.',
    querystring: object({
      agency: { type: 'string' }, period: { type: 'string' },
      indicator: { type: 'string', description: 'dossierSync, onTime, onlineSubmission, paidOnline, digitisedResults or reuse.' },
      side: { type: 'string', enum: ['numerator', 'denominator'] },
      offset: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 1000 },
      format: { type: 'string', enum: ['json', 'csv'] }
    }, ['agency', 'period', 'indicator']),
    security: bearer,
    response: { 200: json({ type: 'object' }, 'One page of dossiers.'), ...problems([...BASE, ...AUTH, 'LGSP_ERR_AUTH_READ_FORBIDDEN', 'LGSP_ERR_INDICATORS_AGENCY', 'LGSP_ERR_INDICATORS_UNKNOWN_AGENCY', 'LGSP_ERR_REQUEST_BAD_PARAMETER']) }
  },
  closePeriod: {
    tags: ['statistics'],
    summary: 'Close a period (revision 1), or revise a closed one (revision n+1)',
    description: 'On an open period the figures become revision 1. On a closed one ("revise") the figures become revision n+1 with the `changes` against revision n when they moved since, else revision n is answered unchanged.',
    body: agencyPeriod,
    security: bearer,
    response: { 200: json(doc('Indicators'), 'The closed figures.'), ...problems([...BASE, ...ADMIN, 'LGSP_ERR_INDICATORS_AGENCY', 'LGSP_ERR_INDICATORS_UNKNOWN_AGENCY', 'LGSP_ERR_REQUEST_BAD_PARAMETER']) }
  },
  reconcileOnestop: {
    tags: ['statistics'],
    summary: 'Compare the one-stop\'s own list of the period\'s dossiers with the ledger',
    body: message('onestop-reconcile'),
    security: bearer,
    response: { 200: json({ type: 'object' }, 'What differs.'), ...problems([...BASE, ...AUTH, 'LGSP_ERR_AUTH_KIND_FORBIDDEN', 'LGSP_ERR_REQUEST_INVALID', 'LGSP_ERR_INDICATORS_AGENCY', 'LGSP_ERR_REQUEST_BAD_PARAMETER']) }
  },
  reconcile: {
    tags: ['statistics'],
    summary: 'Compare the ledger with DVCQG; repair: true re-sends the differences',
    body: object({ ...(agencyPeriod.properties as object), repair: { type: 'boolean' } }, ['agency', 'period']),
    security: bearer,
    response: { 200: json({ type: 'object' }, 'The comparison.'), ...problems([...BASE, ...ADMIN, 'LGSP_ERR_INDICATORS_AGENCY', 'LGSP_ERR_REQUEST_BAD_PARAMETER', 'LGSP_ERR_RECONCILE_NO_DVCQG']) }
  },
  facade: {
    tags: ['dvcqg-facade'],
    summary: 'DVCQG\'s own integration API (login, DongBoHoSoMC, CapNhatTienDoHoSoMC, TraCuuHoSo, DongBoTrangThaiHoSo)',
    description: 'Post {username, password} to log in, {session, madonvi, service, data} to call a service, or a JSON array to <basePath>/<service>. Every reply is HTTP 200 in DVCQG\'s shape; refusals carry error_code < 0 and lgsp\'s `code`.',
    body: {},
    response: { 200: json(doc('FacadeReply'), 'DVCQG\'s reply.') }
  },
  healthz: {
    tags: ['health'],
    summary: 'Liveness',
    response: { 200: json(doc('Health'), 'The process answers.') }
  },
  readyz: {
    tags: ['health'],
    summary: 'Readiness: the store answers, the workers run, not shutting down',
    response: {
      200: json(object({ status: { const: 'ready' }, store: text, workers: { type: 'array' } }, ['status', 'store', 'workers']), 'Ready.'),
      ...problems(['LGSP_ERR_SERVER_UNAVAILABLE'])
    }
  },
  metrics: {
    tags: ['operators'],
    summary: 'Prometheus metrics (text exposition format 0.0.4)',
    description: 'Allowed from metrics.allowFrom addresses or with metrics.token as a bearer token, when either is configured.',
    security: [{ metricsToken: [] }, {}] as Security,
    response: {
      200: { description: 'lgsp_* metrics and the Node.js process metrics.', content: { 'text/plain': { schema: { type: 'string' } } } },
      ...problems(['LGSP_ERR_AUTH_METRICS_FORBIDDEN', 'LGSP_ERR_SERVER_INTERNAL'])
    }
  },
  openapi: {
    tags: ['health'],
    summary: 'This document (OpenAPI 3.1)',
    response: { 200: json({ type: 'object' }, 'The OpenAPI document.') }
  }
} satisfies Record<string, FastifySchema & { tags: string[], summary: string }>

/**
 * Registers the schemas with fastify (always: the routes reference them) and, with
 * `openapi.enabled`, the document at /openapi.json and the reference page at /docs.
 * Must run before the routes are added: the document is built from the routes seen.
 */
export async function openapiPlugin (app: FastifyInstance, config: GatewayConfig): Promise<void> {
  // Documentation only: intake validates with its own ajv after normalising (see above).
  app.setValidatorCompiler(() => () => true)
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  const names = new Map<string, string>()
  for (const [file, name] of Object.entries(messageSchemas)) {
    const schema = loadMessageSchema(file)
    names.set(schema.$id as string, name)
    app.addSchema(schema)
  }
  for (const [name, schema] of Object.entries(replySchemas)) {
    names.set(`${DOC_BASE}${name}`, name)
    app.addSchema({ $id: `${DOC_BASE}${name}`, ...schema })
  }
  if (!config.openapi.enabled) return
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'lgsp: provincial integration gateway',
        version: (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version,
        description: 'Dossiers and progress in DVCQG\'s field names, payments, Decision 766 indicators, operator routes. Errors are application/problem+json with a stable `code` (README "Errors"). Message schemas: schemas/*.schema.json (JSON Schema 2020-12).'
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'Token from POST /token.' },
          basic: { type: 'http', scheme: 'basic', description: 'Member id and secret (POST /token only).' },
          lgspaccesstoken: { type: 'apiKey', in: 'header', name: 'lgspaccesstoken', description: 'base64 of {"AccessKey": member id, "SecretKey": secret, …}, the provincial LGSP convention.' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'metrics.token (GET /metrics only).' }
        }
      }
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => names.get(json.$id as string) ?? `def-${i}` }
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true }, staticCSP: true })
  app.get('/openapi.json', { schema: routeDocs.openapi }, async () => app.swagger())
}
