/**
 * Tax notices and receipts as DVCQG pushes them to the province (the service names of
 * the province-side importer, so DVCQG's configuration changes only its base URL):
 *
 * - `POST /v1/tax/ImportThongBaoThueFromDVCQG` `{SecurityKey, Service, Ngay, IsUpdating,
 *   Data: {FileThongBaoThue: <notice XML, base64>}}`: the XML goes through the hardened
 *   parser (size, depth and DTD refusals), each ROW_LIST is one dossier's notice, accepted
 *   like the SOAP poller's (status 6, fee lines, one-stop event, DVCQG progress).
 * - `POST /v1/tax/ImportChungTuThueFromDVCQG` `{SecurityKey, Service, IsUpdating, Data:
 *   {MaHoSo, MaSoThue, ThongTinThanhToan: {…}, UrlFileChungTu, …}}`: recorded as a progress
 *   entry in the dossier's current status (history, message log, the member's destinations);
 *   it does not move the status: the processing agency decides what comes after payment.
 *
 * The pusher is the tax destinations' `notices.member`. It authenticates with a bearer token
 * like any member, or, as DVCQG's pusher does, with its client secret as the body's
 * `SecurityKey`. Replies keep the importer's shape, `{succeeded, failed, message, data}`
 * (201); refusals are problem+json carrying `succeeded: false` and `message` as well.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { field, noticeFromPush, noticeGroups, receiptFromPush, taxNotice } from '../../adapters/tax/index.js'
import { parseXmlSafely, POOL_THRESHOLD, XmlParserPool } from '../../adapters/xml/index.js'
import type { GatewayConfig, QuaTrinhXuLy } from '../../schemas/types.js'
import { SIGNATURE_HEADER, type InboundVerifier } from '../crypto/inbound.js'
import { LgspError, lgspError } from '../errors.js'
import { acceptNotice, acceptProgress, sha256, type IntakeDeps, type IntakeResult } from '../intake.js'
import { formatDvcqgDate } from '../ledger/dates.js'
import type { Member, Members } from '../members.js'
import type { Authenticate } from '../plugins/auth.js'
import { routeDocs } from '../plugins/openapi.js'

export interface TaxNoticeDeps extends IntakeDeps {
  members: Members
  verifier?: InboundVerifier
}

/** The members that may push tax notices: every tax destination's `notices.member` with `push` on. */
export function taxPushMembers (config: GatewayConfig): string[] {
  const ids = Object.values(config.destinations).flatMap((d) => d?.adapter === 'tax' && d.notices.push !== false ? [d.notices.member] : [])
  return [...new Set(ids)]
}

/** The importer's reply shape, with the gateway's message ids. */
function imported (message: string, results: Array<{ maHoSo: string, result: IntakeResult }>): Record<string, unknown> {
  return {
    succeeded: true,
    failed: false,
    message,
    data: null,
    messages: results.map((r) => ({ MaHoSo: r.maHoSo, messageId: r.result.reply.messageId, replayed: r.result.replayed }))
  }
}

/** Registers the push routes when some tax destination takes pushes. */
export function taxNoticeRoutes (app: FastifyInstance, auth: Authenticate, deps: TaxNoticeDeps, config: GatewayConfig): void {
  const pushMembers = taxPushMembers(config)
  if (pushMembers.length === 0) return
  let pool: XmlParserPool | undefined
  app.addHook('onClose', async () => { await pool?.close() })

  /** The pushing member: by bearer token, or by SecurityKey (its client secret). */
  const pusher = async (req: FastifyRequest, reply: FastifyReply): Promise<Member> => {
    let member: Member
    if (req.headers.authorization !== undefined) {
      await auth(req, reply)
      member = req.member!
    } else {
      const key = field(req.body, 'SecurityKey')
      if (typeof key !== 'string' || key === '') throw lgspError('LGSP_ERR_AUTH_MISSING_TOKEN', 'Send SecurityKey in the body (the pushing member\'s secret) or a bearer token.')
      let found: Member | undefined
      for (const id of pushMembers) {
        try {
          found = await deps.members.authenticate(id, key, req.ip)
          break
        } catch (err) {
          if ((err as LgspError).code === 'LGSP_ERR_AUTH_MEMBER_DISABLED') throw err
        }
      }
      if (found === undefined) throw lgspError('LGSP_ERR_AUTH_INVALID_CLIENT', 'SecurityKey does not match the tax-notice member\'s secret.')
      member = found
      // Members that must sign still must, whichever way they authenticate.
      const signature = await deps.verifier?.check(member, req.headers[SIGNATURE_HEADER], req.rawBody ?? '')
      if (signature !== undefined) req.signature = req.headers[SIGNATURE_HEADER] as string
    }
    if (!pushMembers.includes(member.id)) throw lgspError('LGSP_ERR_AUTH_KIND_FORBIDDEN', `Member ${member.id} is not the notices.member of a tax destination.`)
    return member
  }

  /** Refusals carry the importer's `succeeded: false` and `message` beside the problem fields. */
  const asImporter = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work()
    } catch (err) {
      if (err instanceof LgspError) throw new LgspError(err.code, err.message, { ...err.extra, succeeded: false, failed: true, message: err.message })
      throw err
    }
  }

  const parse = async (xml: string): Promise<Record<string, unknown>> => {
    if (xml.length <= POOL_THRESHOLD) return parseXmlSafely(xml, { root: 'DATA' })
    pool ??= new XmlParserPool()
    return pool.parse(xml, { root: 'DATA' })
  }

  app.post('/v1/tax/ImportThongBaoThueFromDVCQG', { schema: routeDocs.taxNotice }, async (req, reply) => asImporter(async () => {
    if (req.rawBody === undefined) throw lgspError('LGSP_ERR_REQUEST_MEDIA_TYPE')
    const member = await pusher(req, reply)
    const xml = noticeFromPush(req.body)
    const groups = noticeGroups(await parse(xml))
    // Every dossier must be known before any is changed (the importer stops at the first unknown one, half done).
    const unknown: string[] = []
    for (const g of groups) if (await deps.store.dossierState(g.maHoSo) === undefined) unknown.push(g.maHoSo)
    if (unknown.length > 0) throw lgspError('LGSP_ERR_DOSSIER_NOT_FOUND', `Tax notice for dossiers the gateway does not know: ${unknown.join(', ')}.`, { maHoSo: unknown })
    const results: Array<{ maHoSo: string, result: IntakeResult }> = []
    for (const g of groups) results.push({ maHoSo: g.maHoSo, result: await acceptNotice(deps, member, taxNotice(g.maHoSo, g.rows, xml, Date.now())) })
    if (results.every((r) => r.result.replayed)) reply.header('idempotent-replayed', 'true')
    reply.code(201)
    return imported(`Import 'Thông báo thuế' thành công với mã hồ sơ: ${groups.map((g) => g.maHoSo).join(', ')}`, results)
  }))

  app.post('/v1/tax/ImportChungTuThueFromDVCQG', { schema: routeDocs.taxReceipt }, async (req, reply) => asImporter(async () => {
    if (req.rawBody === undefined) throw lgspError('LGSP_ERR_REQUEST_MEDIA_TYPE')
    const member = await pusher(req, reply)
    const receipt = receiptFromPush(req.body)
    const current = await deps.store.dossierState(receipt.MaHoSo)
    if (current === undefined) throw lgspError('LGSP_ERR_DOSSIER_NOT_FOUND', `Tax receipt for dossier ${receipt.MaHoSo}, which the gateway does not know.`, { maHoSo: receipt.MaHoSo })
    const entry: QuaTrinhXuLy = {
      MaHoSo: receipt.MaHoSo,
      ThoiDiemXuLy: receipt.ThoiGianThanhToan ?? formatDvcqgDate(Date.now()),
      // A receipt is a fact about payment, not a status change: it is recorded in the current status.
      TrangThai: current.state,
      NoiDungXuLy: `Chứng từ thuế${receipt.MaThongBaoThue === '' ? '' : ` (thông báo ${receipt.MaThongBaoThue})`}: ${receipt.paid ? 'đã nộp' : 'chưa nộp'} ${receipt.SoTien.toLocaleString('vi-VN')} đồng${receipt.NoiDungThanhToan === '' ? '' : `, ${receipt.NoiDungThanhToan}`}`.slice(0, 4000),
      PhongBanXuLy: 'Cơ quan thuế'
    }
    // The logged body is the receipt's Data, never the SecurityKey beside it.
    const raw = JSON.stringify(field(req.body, 'Data'))
    const key = `tax-receipt:${sha256(`${receipt.MaHoSo}\n${receipt.MaThongBaoThue}\n${receipt.ThoiGianThanhToan ?? ''}\n${receipt.SoTien}\n${receipt.paid}`)}`
    const result = await acceptProgress(deps, { member, body: entry, raw, idempotencyKey: key }, receipt.MaHoSo)
    if (result.replayed) reply.header('idempotent-replayed', 'true')
    reply.code(201)
    return imported(`Import 'Chứng từ thuế' thành công với mã hồ sơ: ${receipt.MaHoSo}`, [{ maHoSo: receipt.MaHoSo, result }])
  }))
}
