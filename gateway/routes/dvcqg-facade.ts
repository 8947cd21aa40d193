/**
 * The DVCQG facade: DVCQG's own integration API, served by the gateway under
 * `facade.basePath`, so a one-stop system already configured for the national portal
 * switches to lgsp by changing only its base URL. What arrives goes through the same
 * intake as /v1 (acceptDossiers, acceptProgress): same checks, same ledger, same delivery.
 *
 * How real clients call DVCQG (as their public integration code shows, e.g. opencps-v2's
 * DVCQGIntegrationActionImpl):
 * - login: `POST {base}{auth}` `{username, password}` with a `dstcode` header; success is
 *   `error_code` 0 with a `session` (read with getInt, so 0 or "0");
 * - services: `POST {base}{integration}` `{session, madonvi, service, …}`; success is
 *   `error_code` "0" and, for some clients, the reply text containing "thành công";
 * - bare arrays to one URL per service (create, update, progress), success judged by
 *   "thành công" anywhere in the reply text.
 * Clients keep their own suffixes for {auth} and {integration}, so every POST below the
 * base path is read by its body: a login, an envelope naming its service, or data for the
 * service named by the last path segment (or recognised by its fields).
 *
 * Every reply is HTTP 200 with `{error_code, message, …}`: one client reads the body only
 * on a 2xx, and all of them branch on error_code. lgsp's extras (`code`, `messageId`,
 * `warnings`, …) are fields a DVCQG client ignores.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { GatewayConfig, QuaTrinhXuLy } from '../../schemas/types.js'
import { TokenSigner } from '../crypto/token.js'
import { LgspError, lgspError, type ErrorCode } from '../errors.js'
import { acceptDossiers, acceptProgress, type IntakeDeps, type IntakeRequest, type IntakeResult } from '../intake.js'
import { formatDvcqgDate } from '../ledger/dates.js'
import { stateNames } from '../ledger/state-machine.js'
import type { Member, Members } from '../members.js'
import { activeMember, requestMember, tokenSubject } from '../plugins/auth.js'
import { checkSchema, validators } from '../validation.js'
import { routeDocs } from '../plugins/openapi.js'

/** The DVCQG services the facade serves. */
export const facadeServices = ['DongBoHoSoMC', 'CapNhatTienDoHoSoMC', 'TraCuuHoSo', 'DongBoTrangThaiHoSo'] as const
export type FacadeService = typeof facadeServices[number]

/** What a DVCQG client reads: error_code 0 and a message containing "Thành công" mean success. */
export interface FacadeReply {
  error_code: number | string
  message: string
  [extra: string]: unknown
}

const SUCCESS = 'Thành công'

/**
 * DVCQG's reply wording. Codes -1 to -5 are the national portal's own (the same wording as
 * the DVCQG adapter's codec and simulator; copied, since the gateway core does not import
 * adapter codecs); -6 is the simulator's login refusal; -7 and -8 are the facade's.
 */
const wording = {
  rejected: { error_code: -1, message: 'Dữ liệu không hợp lệ' },
  session: { error_code: -2, message: 'Session không hợp lệ hoặc đã hết hạn' },
  missing: { error_code: -4, message: 'Hồ sơ không tồn tại' },
  busy: { error_code: -5, message: 'Hệ thống đang quá tải, vui lòng thử lại sau' },
  login: { error_code: -6, message: 'Sai tên đăng nhập hoặc mật khẩu' },
  forbidden: { error_code: -7, message: 'Không được phép' },
  service: { error_code: -8, message: 'Service không được hỗ trợ' }
} as const

/** Which DVCQG reply an error becomes. */
function wordingOf (code: ErrorCode): typeof wording[keyof typeof wording] {
  switch (code) {
    case 'LGSP_ERR_AUTH_MISSING_TOKEN':
    case 'LGSP_ERR_AUTH_INVALID_TOKEN':
    case 'LGSP_ERR_AUTH_EXPIRED_TOKEN':
    case 'LGSP_ERR_AUTH_LGSP_TOKEN_MALFORMED':
      // Clients log in again on this reply.
      return wording.session
    case 'LGSP_ERR_AUTH_INVALID_CLIENT':
      return wording.login
    case 'LGSP_ERR_AUTH_MEMBER_DISABLED':
    case 'LGSP_ERR_AUTH_KIND_FORBIDDEN':
    case 'LGSP_ERR_AUTH_DESTINATION_FORBIDDEN':
    case 'LGSP_ERR_AUTH_READ_FORBIDDEN':
    case 'LGSP_ERR_AUTH_DOSSIER_FORBIDDEN':
    case 'LGSP_ERR_SIGNATURE_MISSING':
      return wording.forbidden
    case 'LGSP_ERR_DOSSIER_NOT_FOUND':
      return wording.missing
    case 'LGSP_ERR_FACADE_UNKNOWN_SERVICE':
      return wording.service
    case 'LGSP_ERR_SERVER_UNAVAILABLE':
    case 'LGSP_ERR_SERVER_INTERNAL':
      return wording.busy
    default:
      return wording.rejected
  }
}

/**
 * A failure in DVCQG's form: the problem's detail in `message`, its code in `code`. No
 * failure text may contain "thành công": one client judges success by that phrase anywhere
 * in the reply.
 */
function failure (err: LgspError): FacadeReply {
  const w = wordingOf(err.code)
  const out: FacadeReply = { error_code: w.error_code, message: `${w.message}: ${err.message}`, code: err.code }
  const errors = err.extra?.errors
  if (errors !== undefined) out.errors = errors
  return out
}

/** The intake reply as the facade passes it on (lead's optional `warnings`/`entries` included untouched). */
function accepted (result: IntakeResult): Record<string, unknown> {
  const out: Record<string, unknown> = { ...result.reply, replayed: result.replayed }
  if (result.receipt !== undefined) out.receipt = result.receipt
  return out
}

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v)
const nonEmpty = (v: unknown): string | undefined => typeof v === 'string' && v.trim() !== '' ? v : undefined

/** A header value once, or undefined. */
function header (req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name]
  return typeof v === 'string' && v !== '' ? v : undefined
}

/**
 * Codes (madonvi, dstcode) are logged only when they look like codes: a client could put
 * anything there, and a citizen ID must never reach a log line.
 */
function codeForLog (v: unknown): string | null {
  if (typeof v !== 'string' || v === '') return null
  return /^[A-Za-z0-9._-]{1,64}$/.test(v) && /[A-Za-z]/.test(v) && !/\d{9,}/.test(v) ? v : '[not a code]'
}

/** `data` as sent: an array, one object, or (some clients) a JSON string of either. */
function dataOf (data: unknown): unknown[] {
  let d = data
  if (typeof d === 'string') {
    try {
      d = JSON.parse(d)
    } catch {
      throw lgspError('LGSP_ERR_FACADE_MALFORMED', 'data is a string that is not JSON.')
    }
  }
  if (Array.isArray(d)) return d
  if (isObject(d)) return [d]
  throw lgspError('LGSP_ERR_FACADE_MALFORMED', 'Send data as an array of records.')
}

/** The service of a bare array, recognised by its records' fields. */
function serviceByShape (items: readonly unknown[]): FacadeService {
  const first = items[0]
  if (isObject(first)) {
    if ('MaTTHC' in first) return 'DongBoHoSoMC'
    if ('ThoiDiemXuLy' in first || 'TrangThai' in first) return 'CapNhatTienDoHoSoMC'
    if ('TrangThaiHoSo' in first) return 'DongBoTrangThaiHoSo'
  }
  throw lgspError('LGSP_ERR_FACADE_UNKNOWN_SERVICE', 'Name the service in the URL (<basePath>/<service>) or in the body.')
}

function serviceNamed (name: string | undefined): FacadeService | undefined {
  if (name === undefined) return undefined
  const lower = name.toLowerCase()
  return facadeServices.find((s) => s.toLowerCase() === lower)
}

/**
 * A DongBoTrangThaiHoSo record (`{MaHoSo, TrangThai | TrangThaiHoSo, NgayXuLy, NoiDung,
 * MaHoSoDonVi, MaDoiTuong, TaiLieuXuLy}`, sent with type "2") as a progress entry that
 * moves the dossier to that status.
 */
function statusEntry (item: unknown, now: number): QuaTrinhXuLy {
  if (!isObject(item)) throw lgspError('LGSP_ERR_FACADE_MALFORMED', 'DongBoTrangThaiHoSo data is {MaHoSo, TrangThaiHoSo, NgayXuLy, NoiDung}.')
  const entry = {
    MaHoSo: item.MaHoSo,
    // Both spellings occur; the schema check below refuses anything that is not 1–10.
    TrangThai: item.TrangThaiHoSo ?? item.TrangThai,
    // A client sends its NgayTra here, which may be null: the time of arrival then.
    ThoiDiemXuLy: nonEmpty(item.NgayXuLy) ?? nonEmpty(item.ThoiDiemXuLy) ?? formatDvcqgDate(now),
    NoiDungXuLy: nonEmpty(item.NoiDung) ?? nonEmpty(item.NoiDungXuLy) ?? 'Cập nhật trạng thái hồ sơ'
  } as QuaTrinhXuLy
  const officer = nonEmpty(item.NguoiXuLy)
  if (officer !== undefined) entry.NguoiXuLy = officer
  // The step's documents ride with the entry to DVCQG (QuaTrinhXuLy.TaiLieuXuLy).
  if (Array.isArray(item.TaiLieuXuLy)) entry.TaiLieuXuLy = item.TaiLieuXuLy
  return entry
}

export interface FacadeDeps extends IntakeDeps {
  members: Members
  /** The bearer token signer of POST /token (bearer tokens are accepted too). */
  signer: TokenSigner
}

/** Registers `POST {facade.basePath}` and everything below it. */
export function facadeRoutes (app: FastifyInstance, config: GatewayConfig, deps: FacadeDeps): void {
  const base = config.facade.basePath
  // Stateless sessions any instance can check: the token secret, a distinct issuer (a session
  // is not a /v1 bearer token), and a lifetime longer than clients' ~10-minute renewal.
  const sessions = new TokenSigner(config.auth.tokenSecret!, `${config.auth.issuer}/dvcqg-session`, config.facade.sessionTtlSeconds)
  const signers = [sessions, deps.signer]
  const successCode = config.facade.successCode
  const success = (extra: Record<string, unknown> = {}): FacadeReply => ({ ...extra, error_code: successCode, message: SUCCESS })

  /** The caller: the envelope's session, or a session / bearer / lgspaccesstoken header. */
  const memberOf = async (req: FastifyRequest, body: unknown): Promise<Member> => {
    const session = (isObject(body) ? nonEmpty(body.session) : undefined) ?? header(req, 'session')
    const member = session !== undefined
      ? activeMember(deps.members, tokenSubject(signers, session.trim()))
      : await requestMember(req, signers, deps.members, deps.signer.ttlSeconds)
    // The facade carries no X-Lgsp-Signature: a member that must sign cannot go around /v1.
    if (member.signature?.required === true) throw lgspError('LGSP_ERR_SIGNATURE_MISSING', `Member ${member.id} must sign every request; the DVCQG facade carries no signature: use /v1.`)
    req.member = member
    return member
  }

  const intake = (member: Member, data: unknown): IntakeRequest =>
    // Only the data is the message: the envelope's session changes at every login, and a
    // re-send must hash the same (intake derives the idempotency key from sender and content).
    ({ member, body: data, raw: JSON.stringify(data) })

  const login = async (body: Json, address: string): Promise<FacadeReply> => {
    if (typeof body.username !== 'string' || typeof body.password !== 'string') throw lgspError('LGSP_ERR_AUTH_INVALID_CLIENT', 'Send {"username": <member id>, "password": <member secret>}.')
    const member = await deps.members.authenticate(body.username, body.password, address)
    return success({ session: sessions.issue(member.id), expires_in: sessions.ttlSeconds })
  }

  /** CapNhatTienDoHoSoMC carries entries of several dossiers: one message per dossier. */
  const progress = async (member: Member, entries: unknown[], extra: Json = {}): Promise<FacadeReply> => {
    // The whole batch is checked first: bad input changes nothing.
    checkSchema(validators.progressRequest, entries)
    const groups = new Map<string, QuaTrinhXuLy[]>()
    for (const e of entries as QuaTrinhXuLy[]) groups.set(e.MaHoSo, [...groups.get(e.MaHoSo) ?? [], e])
    const results: Json[] = []
    let first: LgspError | undefined
    for (const [maHoSo, group] of groups) {
      try {
        // No "message" per dossier: the reply text of a partial failure must not say "thành công".
        results.push({ MaHoSo: maHoSo, error_code: 0, ...accepted(await acceptProgress(deps, intake(member, group), maHoSo)) })
      } catch (err) {
        if (!(err instanceof LgspError)) throw err
        first ??= err
        const f = failure(err)
        results.push({ MaHoSo: maHoSo, error_code: f.error_code, code: err.code, detail: err.message })
      }
    }
    const messageIds = results.map((r) => r.messageId).filter((id) => id !== undefined)
    if (first === undefined) return success({ ...extra, messageIds, results })
    // DVCQG takes a batch whole or not at all: clients re-send it all, and what was accepted replays.
    const refused = results.filter((r) => r.error_code !== 0)
    const f = failure(lgspError(first.code, `${refused.length} of ${results.length} dossier(s) refused: ${refused.map((r) => `${String(r.MaHoSo)}: ${String(r.detail)}`).join('; ')}`))
    return { ...f, ...extra, messageIds, results }
  }

  const lookUp = async (member: Member, body: Json): Promise<FacadeReply> => {
    const maHoSo = nonEmpty(body.mahoso) ?? nonEmpty(body.MaHoSo) ?? (isObject(body.data) ? nonEmpty(body.data.MaHoSo) : undefined)
    if (maHoSo === undefined) throw lgspError('LGSP_ERR_FACADE_MALFORMED', 'TraCuuHoSo needs mahoso.')
    // DVCQG answers "not found" with an empty result, and so does the facade for a dossier this member may not read.
    if (member.read === 'none' && !member.admin) return success({ result: [] })
    const view = await deps.store.getDossier(maHoSo)
    if (view === undefined || (member.read === 'own' && !member.admin && view.row.owner !== member.id)) return success({ result: [] })
    const { row } = view
    const record = {
      ...row.record,
      // The ledger's state, as DVCQG sends codes: a numeric string.
      TrangThaiHoSo: String(row.state),
      QuaTrinhXuLy: view.history.map((e) => ({
        MaHoSo: row.maHoSo,
        ThoiDiemXuLy: formatDvcqgDate(e.at),
        TrangThai: String(e.toState),
        NoiDungXuLy: stateNames[e.toState],
        // lgsp's: which message, and whether it moved the state (an out-of-order entry did not).
        kind: e.kind,
        applied: e.applied,
        messageId: e.messageId
      }))
    }
    return success({ result: [record] })
  }

  const call = async (member: Member, service: FacadeService, body: Json, data: unknown): Promise<FacadeReply> => {
    switch (service) {
      case 'DongBoHoSoMC':
        // isUpdating is advisory: the gateway knows whether it holds the dossier, and DVCQG gets the right call.
        return success(accepted(await acceptDossiers(deps, intake(member, dataOf(data)))))
      case 'CapNhatTienDoHoSoMC':
        return progress(member, dataOf(data))
      case 'TraCuuHoSo':
        return lookUp(member, body)
      case 'DongBoTrangThaiHoSo': {
        const now = Date.now()
        return progress(member, dataOf(data).map((item) => statusEntry(item, now)))
      }
    }
  }

  /** What the log line says of a call (filled in as the call is read). */
  interface Seen { service: string | null, madonvi: unknown }

  const handle = async (req: FastifyRequest, seen: Seen): Promise<FacadeReply> => {
    const body = req.body
    if (isObject(body)) seen.madonvi = body.madonvi
    const rest = (req.params as { '*'?: string })['*'] ?? ''
    const named = serviceNamed(rest.split('/').filter((s) => s !== '').at(-1))
    // One URL per service: a bare array, or {data: [...]}.
    if (named !== undefined || Array.isArray(body) || (isObject(body) && body.service === undefined && 'data' in body)) {
      const member = await memberOf(req, body)
      const data = Array.isArray(body) ? body : isObject(body) ? body.data : undefined
      const service = named ?? serviceByShape(dataOf(data))
      seen.service = service
      return call(member, service, isObject(body) ? body : {}, data)
    }
    if (!isObject(body)) throw lgspError('LGSP_ERR_FACADE_MALFORMED')
    if (body.service !== undefined) {
      const member = await memberOf(req, body)
      const service = serviceNamed(typeof body.service === 'string' ? body.service : undefined)
      if (service === undefined) throw lgspError('LGSP_ERR_FACADE_UNKNOWN_SERVICE', `Service ${String(body.service).slice(0, 64)} is not served by the gateway.`)
      seen.service = service
      return call(member, service, body, body.data)
    }
    if ('username' in body || 'password' in body) {
      seen.service = 'login'
      return await login(body, req.ip)
    }
    throw lgspError('LGSP_ERR_FACADE_MALFORMED')
  }

  const handler = async (req: FastifyRequest, res: FastifyReply): Promise<FacadeReply> => {
    // DVCQG's routing header: recorded and echoed, never required (some clients leave it empty).
    const dstcode = header(req, 'dstcode')
    if (dstcode !== undefined) res.header('dstcode', dstcode)
    const seen: Seen = { service: null, madonvi: undefined }
    let reply: FacadeReply
    try {
      reply = await handle(req, seen)
    } catch (err) {
      if (!(err instanceof LgspError)) req.log.error({ err }, 'dvcqg facade call failed')
      reply = failure(err instanceof LgspError ? err : lgspError('LGSP_ERR_SERVER_INTERNAL'))
    }
    req.log.info({ service: seen.service, member: req.member?.id, madonvi: codeForLog(seen.madonvi), dstcode: codeForLog(dstcode), error_code: reply.error_code, code: reply.code }, 'dvcqg facade call')
    res.code(200).header('cache-control', 'no-store')
    return reply
  }

  /** A body that cannot be read (not JSON, too large) is answered in DVCQG's form too. */
  const errorHandler = (err: Error & { code?: string }, req: FastifyRequest, res: FastifyReply): FastifyReply => {
    const e = err instanceof LgspError
      ? err
      : lgspError(err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'LGSP_ERR_REQUEST_TOO_LARGE' : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'LGSP_ERR_REQUEST_MEDIA_TYPE' : 'LGSP_ERR_REQUEST_MALFORMED')
    req.log.info({ service: null, code: e.code }, 'dvcqg facade call')
    return res.code(200).header('cache-control', 'no-store').send(failure(e))
  }

  app.post(base, { errorHandler, schema: routeDocs.facade }, handler)
  app.post(`${base}/*`, { errorHandler, schema: routeDocs.facade }, handler)
}
