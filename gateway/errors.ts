/**
 * Every error code the gateway emits, one table per area. Codes are never renamed or
 * reused; callers branch on `err.code`. The README lists them all (a test checks that).
 * On the wire an error is `application/problem+json` (RFC 9457).
 */

/** One row of an error table. */
export interface ErrorDef {
  /** HTTP status on the wire; for delivery errors, the status the gateway reports for them. */
  readonly status: number
  /** Short, fixed title (the problem's `title`). */
  readonly title: string
  /** Says how to fix it; the default `detail`. */
  readonly hint: string
  /** Delivery errors only: whether a retry may succeed. */
  readonly retryable?: boolean
}

const def = (status: number, title: string, hint: string, retryable?: boolean): ErrorDef =>
  retryable === undefined ? { status, title, hint } : { status, title, hint, retryable }

/** Errors of the HTTP request itself. */
export const requestErrors = {
  LGSP_ERR_REQUEST_MALFORMED: def(400, 'Malformed request body', 'Send a body that is valid JSON (UTF-8).'),
  LGSP_ERR_REQUEST_MEDIA_TYPE: def(415, 'Unsupported media type', 'Send Content-Type: application/json.'),
  LGSP_ERR_REQUEST_TOO_LARGE: def(413, 'Request body too large', 'Split the batch into smaller requests; the limit is http.bodyLimitBytes.'),
  LGSP_ERR_REQUEST_INVALID: def(422, 'Message does not match its schema', 'Fix the fields listed in `errors`; the schemas are in schemas/.'),
  LGSP_ERR_REQUEST_INVALID_DATE: def(422, 'Invalid date', 'Dates are yyyyMMddHHmmss in Asia/Ho_Chi_Minh time, and must exist on the calendar.'),
  LGSP_ERR_REQUEST_DATE_ORDER: def(422, 'Dates out of order', 'NgayHenTra and NgayKetThucXuLy cannot be before NgayTiepNhan.'),
  LGSP_ERR_REQUEST_DUPLICATE_DOSSIER: def(422, 'Dossier repeated in one batch', 'Send each MaHoSo at most once per request.'),
  LGSP_ERR_REQUEST_PATH_MISMATCH: def(422, 'MaHoSo differs from the URL', 'Every progress entry must carry the MaHoSo of the URL.'),
  LGSP_ERR_REQUEST_BAD_PARAMETER: def(400, 'Invalid query parameter', 'Check the parameter named in `detail`.'),
  LGSP_ERR_REQUEST_URI_TOO_LONG: def(414, 'URI too long', 'A path segment (MaHoSo) is at most 100 characters; send long data in the body.'),
  LGSP_ERR_REQUEST_NOT_FOUND: def(404, 'No such route', 'Check the method and path against the README.'),
  LGSP_ERR_IDEMPOTENCY_KEY_INVALID: def(400, 'Invalid Idempotency-Key', 'Use 1 to 128 visible ASCII characters.'),
  LGSP_ERR_IDEMPOTENCY_KEY_REUSED: def(422, 'Idempotency-Key reused with another body', 'Use a new Idempotency-Key for a different message.')
} as const

/** Authentication and access rules. */
export const authErrors = {
  LGSP_ERR_AUTH_MISSING_TOKEN: def(401, 'Missing bearer token', 'Get a token from POST /token and send it as Authorization: Bearer <token>.'),
  LGSP_ERR_AUTH_INVALID_TOKEN: def(401, 'Invalid bearer token', 'Get a new token from POST /token.'),
  LGSP_ERR_AUTH_EXPIRED_TOKEN: def(401, 'Expired bearer token', 'Tokens are short-lived: get a new one from POST /token.'),
  LGSP_ERR_AUTH_INVALID_CLIENT: def(401, 'Invalid client credentials', 'Send the member id and secret as HTTP Basic credentials.'),
  LGSP_ERR_AUTH_UNSUPPORTED_GRANT: def(400, 'Unsupported grant type', 'Send grant_type=client_credentials.'),
  LGSP_ERR_AUTH_MEMBER_DISABLED: def(403, 'Member disabled', 'Ask the provincial IT team to enable this member.'),
  LGSP_ERR_AUTH_KIND_FORBIDDEN: def(403, 'Message kind not allowed for this member', "Ask the provincial IT team to add the kind to the member's messageKinds."),
  LGSP_ERR_AUTH_DESTINATION_FORBIDDEN: def(403, 'Destination not allowed for this member', "Name only destinations in the member's destinations list."),
  LGSP_ERR_AUTH_READ_FORBIDDEN: def(403, 'Reading this dossier is not allowed', 'A member reads the dossiers it sent unless its read rule is "all".'),
  LGSP_ERR_AUTH_DOSSIER_FORBIDDEN: def(403, 'Dossier belongs to another member', 'A member writes to the dossiers it owns; ask the provincial IT team for an access rule (access.rules) if this system must post to it.'),
  LGSP_ERR_AUTH_TOO_MANY_ATTEMPTS: def(429, 'Too many failed credential checks', 'Wait for the time in `detail` (Retry-After) and check the member id and secret before trying again.'),
  LGSP_ERR_AUTH_ADMIN_REQUIRED: def(403, 'Operator rights required', 'Use a member with admin: true.'),
  LGSP_ERR_AUTH_METRICS_FORBIDDEN: def(403, 'Metrics scrape not allowed', 'Scrape from an address listed in metrics.allowFrom, or send metrics.token as Authorization: Bearer <token>.'),
  LGSP_ERR_AUTH_LGSP_TOKEN_MALFORMED: def(401, 'Malformed lgspaccesstoken header', 'Send base64 of the JSON {"AccessKey": "<member id>", "SecretKey": "<member secret>", "AppName": "…", "PartnerCode": "…"}.')
} as const

/**
 * The DVCQG facade (`facade.basePath`). Its replies are DVCQG's `{error_code, message}` at
 * HTTP 200, as DVCQG clients expect; these codes ride in the reply's `code`.
 */
export const facadeErrors = {
  LGSP_ERR_FACADE_MALFORMED: def(400, 'Not a DVCQG request', 'Post {username, password} to log in, {session, madonvi, service, data} to call a service, or a JSON array to <basePath>/<service>.'),
  LGSP_ERR_FACADE_UNKNOWN_SERVICE: def(400, 'DVCQG service not served', 'The facade serves DongBoHoSoMC, CapNhatTienDoHoSoMC, TraCuuHoSo and DongBoTrangThaiHoSo; catalogue look-ups (LayThuTuc, LayDanhSachTTHC) go to DVCQG itself.')
} as const

/** Signed requests (X-Lgsp-Signature: a detached JWS, RFC 7515 + RFC 7797) and offline checks. */
export const signatureErrors = {
  LGSP_ERR_SIGNATURE_MISSING: def(401, 'Signature required', 'This member must sign every request: send the body\'s detached JWS in X-Lgsp-Signature.'),
  LGSP_ERR_SIGNATURE_MALFORMED: def(401, 'Malformed signature', 'Send a compact JWS with an empty payload part (header..signature), alg RS256, PS256 or ES256, and the certificate chain in x5c.'),
  LGSP_ERR_SIGNATURE_INVALID: def(401, 'Signature does not match', 'Sign the exact bytes of the body you send (with b64:false the signing input is BASE64URL(header) + "." + body).'),
  LGSP_ERR_SIGNATURE_UNTRUSTED: def(401, 'Certificate chain not trusted', 'Use a certificate issued by a CA in the gateway\'s trust store, and send its chain in x5c.'),
  LGSP_ERR_SIGNATURE_EXPIRED: def(401, 'Certificate expired or not yet valid', 'Renew the certificate (lgsp certs issue, or your CA) and sign with the new one.'),
  LGSP_ERR_SIGNATURE_REVOKED: def(401, 'Certificate revoked', 'The CA revoked this certificate: get a new one.'),
  LGSP_ERR_SIGNATURE_WRONG_MEMBER: def(401, 'Certificate of another member', 'Sign with the certificate issued to the member you authenticated as.')
} as const

/** The dossier ledger and its state machine. */
export const dossierErrors = {
  LGSP_ERR_DOSSIER_NOT_FOUND: def(404, 'Dossier not found', 'Post the dossier (POST /v1/dossiers) before its progress.'),
  LGSP_ERR_DOSSIER_UNKNOWN_PROCEDURE: def(422, 'Unknown procedure code', 'MaTTHC must be in the procedure catalogue; ask the provincial IT team to add it.'),
  LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION: def(409, 'Illegal status transition', 'See the TrangThaiHoSo transition table in the README; `from` and `to` name the states.')
} as const

/** Payment requests (POST /v1/payments and reports). */
export const paymentErrors = {
  LGSP_ERR_PAYMENT_NOTHING_TO_PAY: def(422, 'Nothing to pay', 'Send at least one fee line with Gia above 0.'),
  LGSP_ERR_PAYMENT_DOSSIER_FORBIDDEN: def(403, 'Not this member\'s dossier', 'Only the member that sent the dossier may request its payment.'),
  LGSP_ERR_PAYMENT_ALREADY_PAID: def(409, 'Dossier already paid', 'The dossier has a confirmed payment; see GET /v1/payments/{MaThamChieu}.'),
  LGSP_ERR_PAYMENT_NOT_FOUND: def(404, 'Payment not found', 'Check the MaThamChieu returned by POST /v1/payments.'),
  LGSP_ERR_PAYGOV_UNAVAILABLE: def(502, 'PayGov did not answer', 'Retry with the same Idempotency-Key: the same reference is sent again.'),
  LGSP_ERR_PAYGOV_REJECTED: def(502, 'PayGov refused the payment request', 'Check the partner settings and the fee lines; the reason is in detail.')
} as const

/** PayGov's callbacks (IPN); the reply body is PayGov's format, these codes ride in `code`. */
export const callbackErrors = {
  LGSP_ERR_CALLBACK_SOURCE: def(403, 'Callback source not allowed', 'Only addresses in payments.callbackAllowFrom may post callbacks.'),
  LGSP_ERR_CALLBACK_MALFORMED: def(400, 'Malformed callback', 'Send every IPN field of protocol 1.0.6 as JSON.'),
  LGSP_ERR_CALLBACK_CHECKSUM: def(401, 'Callback checksum does not match', 'MaXacThuc is SHA-256 over the IPN fields and the shared secret, in PayGov\'s order.'),
  LGSP_ERR_CALLBACK_UNKNOWN_REFERENCE: def(404, 'Unknown payment reference', 'The callback is kept as an orphan for the settlement report.'),
  LGSP_ERR_CALLBACK_AMOUNT_MISMATCH: def(409, 'Amount differs from the payment', 'The callback is recorded as a mismatch for the settlement report.'),
  LGSP_ERR_CALLBACK_PARTNER_MISMATCH: def(409, 'Partner code or currency differs', 'MaDoiTac and MaTienTe must be those of the payment.')
} as const

/** XML from vertical systems (tax notices, SOAP): refused before any expensive parsing. */
export const xmlErrors = {
  LGSP_ERR_XML_TOO_LARGE: def(413, 'XML document too large', 'The limit is xml.maxBytes; ask the sender to split it.'),
  LGSP_ERR_XML_DOCTYPE: def(400, 'DOCTYPE or ENTITY declaration refused', 'Send XML without a DTD: external entities and entity expansion are never processed.'),
  LGSP_ERR_XML_TOO_DEEP: def(400, 'XML nested too deeply', 'The limit is xml.maxDepth levels.'),
  LGSP_ERR_XML_TOO_MANY_ATTRIBUTES: def(400, 'Too many attributes on one element', 'The limit is xml.maxAttributes per element.'),
  LGSP_ERR_XML_ATTRIBUTE_TOO_LONG: def(400, 'Attribute value too long', 'The limit is xml.maxAttributeLength characters.'),
  LGSP_ERR_XML_MALFORMED: def(400, 'Malformed XML', 'Send well-formed XML (UTF-8).'),
  LGSP_ERR_XML_NAMESPACE: def(400, 'Unexpected XML namespace or root', 'The document element must be the one the interface defines, in its namespace.')
} as const

/** Tax notices and receipts pushed by DVCQG (ImportThongBaoThueFromDVCQG, ImportChungTuThueFromDVCQG). */
export const taxErrors = {
  LGSP_ERR_TAX_NOTICE_ENCODING: def(400, 'Tax notice file not readable', 'Send Data.FileThongBaoThue as the notice XML (UTF-8) in standard base64.'),
  LGSP_ERR_TAX_NOTICE_INVALID: def(422, 'Tax notice or receipt not usable', 'Every LIST line needs MA_HSO (on its ROW_LIST), SO_QUYET_DINH, TEN_TIEUMUC, NGAY_QUYET_DINH as dd-MM-yyyy and SO_TIEN as whole VND (e.g. 1500000.00); a receipt needs Data.MaHoSo and ThongTinThanhToan.SoTien.')
} as const

/** Indicators and reconciliation. */
export const indicatorErrors = {
  LGSP_ERR_INDICATORS_AGENCY: def(400, 'Missing or unknown agency', 'Give agency=<MaDonVi>, e.g. 000.00.00.H56 for the whole province.'),
  LGSP_ERR_INDICATORS_UNKNOWN_AGENCY: def(404, 'Unknown agency', 'The agency code is not in the config\'s agencies, in DVCQG\'s agency list or in the ledger: check the MaDonVi, or add the agency to agencies in the config.'),
  LGSP_ERR_RECONCILE_NO_DVCQG: def(503, 'No DVCQG destination to reconcile with', 'Configure the DVCQG destination named in reconcile.destination.')
} as const

/** Operator endpoints. */
export const adminErrors = {
  LGSP_ERR_DLQ_NOT_FOUND: def(404, 'Dead-letter entry not found', 'List the entries with GET /v1/admin/dlq or `lgsp dlq list`.'),
  LGSP_ERR_DLQ_REASON_REQUIRED: def(400, 'Reason required', 'Say why in `reason` (1 to 500 characters): it is written to the message log with your member id.'),
  LGSP_ERR_DLQ_FILTER_REQUIRED: def(400, 'Filter required', 'Name at least one of destination, code or maHoSo: a bulk action never takes the whole dead-letter list by accident.'),
  LGSP_ERR_DESTINATION_UNKNOWN: def(404, 'No such destination', 'Name a destination of the config (GET /v1/admin/queues lists them).'),
  LGSP_ERR_CONSOLE_SESSION: def(401, 'No console session', 'Log in at /console with an operator member\'s id and secret (the session lasts 8 hours).'),
  LGSP_ERR_CONSOLE_CSRF: def(403, 'Cross-site request refused', 'Send state-changing console calls from the console page itself: same Origin and the X-CSRF-Token it was given at login.')
} as const

/** Delivery to destinations; recorded on outbox entries and dead letters, never sent to clients. */
export const deliveryErrors = {
  LGSP_ERR_UPSTREAM_NETWORK: def(502, 'Destination unreachable', 'The gateway retries; check the destination URL and network.', true),
  LGSP_ERR_UPSTREAM_TIMEOUT: def(504, 'Destination timed out', 'The gateway retries; raise timeouts if the destination is slow.', true),
  LGSP_ERR_UPSTREAM_UNAVAILABLE: def(502, 'Destination failed (5xx)', 'The gateway retries.', true),
  LGSP_ERR_UPSTREAM_RATE_LIMITED: def(502, 'Destination rate limit (429)', 'The gateway retries; lower the destination concurrency.', true),
  LGSP_ERR_UPSTREAM_REJECTED: def(502, 'Destination rejected the request (4xx)', 'Fix the message or the destination settings, then replay it.', false),
  LGSP_ERR_UPSTREAM_BAD_REPLY: def(502, 'Destination reply not understood', 'The gateway retries; check the destination URL.', true),
  // Retried, not dead-lettered: a wrong password would otherwise dead-letter every queued message.
  LGSP_ERR_DVCQG_LOGIN: def(502, 'DVCQG login refused', 'The destination is paused: fix destinations.<name>.username / password (LGSP_DEST_<NAME>_PASSWORD); it resumes by itself once a login works, or on POST /v1/admin/destinations/<name>/resume.', true),
  // Retried (the destination pauses), not dead-lettered, for the same reason.
  LGSP_ERR_UPSTREAM_CREDENTIALS: def(502, 'Destination refused the gateway\'s credentials (401/403)', 'The destination is paused: fix destinations.<name>.token (LGSP_DEST_<NAME>_TOKEN); it resumes by itself once a probe goes through, or on POST /v1/admin/destinations/<name>/resume.', true),
  LGSP_ERR_DVCQG_SESSION: def(502, 'DVCQG session rejected after a fresh login', 'The gateway retries.', true),
  LGSP_ERR_DVCQG_REJECTED: def(502, 'DVCQG rejected the dossier (error_code)', 'Fix the dossier as DVCQG says in the dead-letter reason, then replay it.', false),
  LGSP_ERR_DVCQG_BUSY: def(502, 'DVCQG busy (error_code)', 'The gateway retries.', true)
} as const

/** Gateway-side conditions. */
export const serverErrors = {
  LGSP_ERR_SERVER_UNAVAILABLE: def(503, 'Gateway not ready', 'Retry shortly; the gateway is starting or shutting down.'),
  LGSP_ERR_SERVER_BACKLOG: def(503, 'Destination backlog full', 'Send again after Retry-After seconds: the gateway is delivering what it already accepted for this destination (delivery.backlog).'),
  LGSP_ERR_SERVER_INTERNAL: def(500, 'Internal error', 'Retry; if it persists, give the requestId to the provincial IT team.'),
  LGSP_ERR_CONFIG_INVALID: def(500, 'Invalid configuration', 'Fix the configuration file as the message says.'),
  // Start-up only (printed by `lgsp start`, which then exits 1): never on the wire.
  LGSP_ERR_STARTUP_PORT: def(500, 'Cannot listen on the configured address', 'Stop the process holding http.host:http.port, or choose another port (http.port or LGSP_HTTP_PORT).'),
  LGSP_ERR_STARTUP_LOCKED: def(500, 'Store already used by another gateway', 'One gateway per SQLite file: stop the other one, or give this one its own store.path (several instances share work on store.kind "redis").'),
  LGSP_ERR_STARTUP_PREREQUISITES: def(500, 'Start-up prerequisites missing', 'Fix every item listed (folders, files, keys), then start again.'),
  LGSP_ERR_STARTUP_FAILED: def(500, 'Start-up failed', 'Fix what the message names, then start again; nothing was delivered by this process.')
} as const

/** All tables together. */
export const errorTable = {
  ...requestErrors,
  ...authErrors,
  ...facadeErrors,
  ...signatureErrors,
  ...dossierErrors,
  ...paymentErrors,
  ...callbackErrors,
  ...xmlErrors,
  ...taxErrors,
  ...indicatorErrors,
  ...adminErrors,
  ...deliveryErrors,
  ...serverErrors
} as const

export type ErrorCode = keyof typeof errorTable
export type DeliveryErrorCode = keyof typeof deliveryErrors

/** An error with a stable code from the table; extra members go into the problem document. */
export class LgspError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly extra: Readonly<Record<string, unknown>> | undefined

  constructor (code: ErrorCode, detail?: string, extra?: Record<string, unknown>) {
    const row = errorTable[code]
    super(detail ?? row.hint)
    this.name = 'LgspError'
    this.code = code
    this.status = row.status
    this.extra = extra
  }
}

/** Shorthand: `throw lgspError('LGSP_ERR_…', 'detail')`. */
export const lgspError = (code: ErrorCode, detail?: string, extra?: Record<string, unknown>): LgspError =>
  new LgspError(code, detail, extra)

/** Whether a delivery error code may succeed on retry. */
export const isRetryable = (code: DeliveryErrorCode): boolean => deliveryErrors[code].retryable === true

/** RFC 9457 problem document as the gateway sends it. */
export interface Problem {
  type: string
  title: string
  status: number
  code: ErrorCode
  detail: string
  requestId: string
  [extension: string]: unknown
}

/** Builds the problem document for an error. */
export function toProblem (err: LgspError, requestId: string): Problem {
  return {
    ...err.extra,
    type: `https://lgsp.gov.vn/errors/${err.code}`,
    title: errorTable[err.code].title,
    status: err.status,
    code: err.code,
    detail: err.message,
    requestId
  }
}
