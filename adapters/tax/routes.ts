/**
 * The tax component's routes: tax notices and receipts as DVCQG pushes them to the province
 * (the service names of the province-side importer, so DVCQG's configuration changes only
 * its base URL):
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
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { LgspError, lgspError } from '../../gateway/errors.js'
import { formatDvcqgDate } from '../../gateway/ledger/dates.js'
import type { Member, QuaTrinhXuLy, TaxDestination } from '../../schemas/types.js'
import type { Accepted, LedgerRow, RouteContext } from '../component.js'
import { field, noticeFromPush, noticeGroups, receiptFromPush, taxNotice } from './codec.js'

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/** The members that may push tax notices: every tax destination's `notices.member` with `push` on. */
export function taxPushMembers (destinations: ReadonlyArray<{ config: TaxDestination }>): string[] {
  return [...new Set(destinations.flatMap((d) => d.config.notices.push !== false ? [d.config.notices.member] : []))]
}

/** The importer's reply shape, with the gateway's message ids. */
function imported (message: string, results: Array<{ maHoSo: string, result: Accepted }>): Record<string, unknown> {
  return {
    succeeded: true,
    failed: false,
    message,
    data: null,
    messages: results.map((r) => ({ MaHoSo: r.maHoSo, messageId: r.result.messageId, replayed: r.result.replayed }))
  }
}

/** The importer's reply (201), as documented. */
const TaxImport = {
  type: 'object',
  title: 'TaxImport',
  description: 'The province-side importer\'s reply shape.',
  required: ['succeeded', 'failed', 'message'],
  properties: { succeeded: { type: 'boolean' }, failed: { type: 'boolean' }, message: { type: 'string' }, data: { type: 'null' }, messages: { type: 'array' } }
}

/** Registers the push routes when some tax destination takes pushes. */
export async function taxPushRoutes (app: FastifyInstance, destinations: ReadonlyArray<{ name: string, config: TaxDestination }>, context: RouteContext): Promise<void> {
  const pushMembers = taxPushMembers(destinations)
  if (pushMembers.length === 0) return
  const { docs } = context
  const xmlErrors = ['LGSP_ERR_XML_TOO_LARGE', 'LGSP_ERR_XML_DOCTYPE', 'LGSP_ERR_XML_TOO_DEEP', 'LGSP_ERR_XML_TOO_MANY_ATTRIBUTES', 'LGSP_ERR_XML_ATTRIBUTE_TOO_LONG', 'LGSP_ERR_XML_MALFORMED', 'LGSP_ERR_XML_NAMESPACE'] as const
  const noticeDocs = {
    tags: ['tax'],
    summary: 'DVCQG pushes a tax notice (ImportThongBaoThueFromDVCQG)',
    description: 'Body {SecurityKey, Service, Ngay, IsUpdating, Data: {FileThongBaoThue: <notice XML, base64>}}; the pusher is a tax destination\'s notices.member (bearer token or SecurityKey).',
    body: { type: 'object' },
    response: {
      201: docs.json(TaxImport, 'Imported.'),
      ...docs.problems([...docs.base, ...docs.auth, 'LGSP_ERR_AUTH_INVALID_CLIENT', 'LGSP_ERR_AUTH_KIND_FORBIDDEN', 'LGSP_ERR_DOSSIER_NOT_FOUND', 'LGSP_ERR_TAX_NOTICE_ENCODING', 'LGSP_ERR_TAX_NOTICE_INVALID', ...xmlErrors, 'LGSP_ERR_DOSSIER_ILLEGAL_TRANSITION'])
    }
  }
  const receiptDocs = {
    tags: ['tax'],
    summary: 'DVCQG pushes a tax receipt (ImportChungTuThueFromDVCQG)',
    body: { type: 'object' },
    response: {
      201: docs.json(TaxImport, 'Recorded as a progress entry.'),
      ...docs.problems([...docs.base, ...docs.auth, 'LGSP_ERR_AUTH_INVALID_CLIENT', 'LGSP_ERR_AUTH_KIND_FORBIDDEN', 'LGSP_ERR_DOSSIER_NOT_FOUND', 'LGSP_ERR_TAX_NOTICE_INVALID', 'LGSP_ERR_IDEMPOTENCY_KEY_REUSED'])
    }
  }

  /** The pushing member: by bearer token, or by SecurityKey (its client secret). */
  const pusher = async (req: FastifyRequest, reply: FastifyReply): Promise<Member> => {
    let member: Member
    if (req.headers.authorization !== undefined) {
      member = await context.bearerMember(req, reply)
    } else {
      const key = field(req.body, 'SecurityKey')
      if (typeof key !== 'string' || key === '') throw lgspError('LGSP_ERR_AUTH_MISSING_TOKEN', 'Send SecurityKey in the body (the pushing member\'s secret) or a bearer token.')
      const found = await context.secretMember(req, pushMembers, key)
      if (found === undefined) throw lgspError('LGSP_ERR_AUTH_INVALID_CLIENT', 'SecurityKey does not match the tax-notice member\'s secret.')
      member = found
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

  const stateOf = async (maHoSo: string): Promise<LedgerRow['state'] | undefined> => (await context.dossierRows([maHoSo]))[0]?.state

  app.post('/v1/tax/ImportThongBaoThueFromDVCQG', { schema: noticeDocs }, async (req, reply) => asImporter(async () => {
    if (req.rawBody === undefined) throw lgspError('LGSP_ERR_REQUEST_MEDIA_TYPE')
    const member = await pusher(req, reply)
    const xml = noticeFromPush(req.body)
    const groups = noticeGroups(await context.xml().parse(xml, { root: 'DATA' }))
    // Every dossier must be known before any is changed (the importer stops at the first unknown one, half done).
    const unknown: string[] = []
    for (const g of groups) if (await stateOf(g.maHoSo) === undefined) unknown.push(g.maHoSo)
    if (unknown.length > 0) throw lgspError('LGSP_ERR_DOSSIER_NOT_FOUND', `Tax notice for dossiers the gateway does not know: ${unknown.join(', ')}.`, { maHoSo: unknown })
    const results: Array<{ maHoSo: string, result: Accepted }> = []
    for (const g of groups) results.push({ maHoSo: g.maHoSo, result: await context.acceptNotice(member, taxNotice(g.maHoSo, g.rows, xml, Date.now())) })
    if (results.every((r) => r.result.replayed)) reply.header('idempotent-replayed', 'true')
    reply.code(201)
    return imported(`Import 'Thông báo thuế' thành công với mã hồ sơ: ${groups.map((g) => g.maHoSo).join(', ')}`, results)
  }))

  app.post('/v1/tax/ImportChungTuThueFromDVCQG', { schema: receiptDocs }, async (req, reply) => asImporter(async () => {
    if (req.rawBody === undefined) throw lgspError('LGSP_ERR_REQUEST_MEDIA_TYPE')
    const member = await pusher(req, reply)
    const receipt = receiptFromPush(req.body)
    const current = await stateOf(receipt.MaHoSo)
    if (current === undefined) throw lgspError('LGSP_ERR_DOSSIER_NOT_FOUND', `Tax receipt for dossier ${receipt.MaHoSo}, which the gateway does not know.`, { maHoSo: receipt.MaHoSo })
    const entry: QuaTrinhXuLy = {
      MaHoSo: receipt.MaHoSo,
      ThoiDiemXuLy: receipt.ThoiGianThanhToan ?? formatDvcqgDate(Date.now()),
      // A receipt is a fact about payment, not a status change: it is recorded in the current status.
      TrangThai: current,
      NoiDungXuLy: `Chứng từ thuế${receipt.MaThongBaoThue === '' ? '' : ` (thông báo ${receipt.MaThongBaoThue})`}: ${receipt.paid ? 'đã nộp' : 'chưa nộp'} ${receipt.SoTien.toLocaleString('vi-VN')} đồng${receipt.NoiDungThanhToan === '' ? '' : `, ${receipt.NoiDungThanhToan}`}`.slice(0, 4000),
      PhongBanXuLy: 'Cơ quan thuế'
    }
    // The logged body is the receipt's Data, never the SecurityKey beside it.
    const raw = JSON.stringify(field(req.body, 'Data'))
    const key = `tax-receipt:${sha256(`${receipt.MaHoSo}\n${receipt.MaThongBaoThue}\n${receipt.ThoiGianThanhToan ?? ''}\n${receipt.SoTien}\n${receipt.paid}`)}`
    const result = await context.acceptProgress(member, receipt.MaHoSo, entry, key, raw)
    if (result.replayed) reply.header('idempotent-replayed', 'true')
    reply.code(201)
    return imported(`Import 'Chứng từ thuế' thành công với mã hồ sơ: ${receipt.MaHoSo}`, [{ maHoSo: receipt.MaHoSo, result }])
  }))
}
