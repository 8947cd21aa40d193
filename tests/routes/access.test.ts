import t, { type Test } from 'tap'
import { mayWrite, agencyOwner, type AccessConfig } from '../../gateway/access.js'
import { taxNotice } from '../../adapters/tax/index.js'
import { acceptNotice } from '../../gateway/intake.js'
import { LgspError } from '../../gateway/errors.js'
import { hoso, members, progress, startStack, testAccess, testMemberList, type Stack } from '../helpers.js'
import { testRedis } from '../redis-server.js'

const LICENCE = '1.003560.000.00.00.H56'
const BIRTH = '1.001193.000.00.00.H56'
/** A second one-stop (another district): it may send dossiers, and owns none of the first one's. */
const OTHER = { id: 'onestop-b-test', secret: 'onestop-b-test-secret' }
/** Dossier codes of this agency belong to the first one-stop even before it sends them. */
const AGENCY = '000.00.09.H56'

const access = (): Record<string, unknown> => ({ ...testAccess(), agencyOwners: { [AGENCY]: members.onestop.id } })

t.test('the access rules read as data: owner, agency owner, grants by procedure, agency and for all', async (t) => {
  const cfg: AccessConfig = {
    agencyOwners: { '000.00.01': 'a', '000.00.01.H56': 'b' },
    rules: [
      { member: 'gplx', kinds: ['progress'], procedures: [LICENCE] },
      { member: 'district', kinds: ['dossier', 'progress'], agencies: ['000.00.07.H56'] },
      { member: 'tax', kinds: ['tax-notice'], allDossiers: true },
      { member: 'nothing', kinds: ['progress'] }
    ]
  }
  t.equal(agencyOwner(cfg, '000.00.01.H56-240201-0001'), 'b', 'the longest agency code wins')
  const known = (maHoSo: string, maTTHC: string, creator: string) => ({ maHoSo, maTTHC, creator })
  t.ok(mayWrite(cfg, 'x', 'progress', known('Z-1', BIRTH, 'x')), 'the creator writes')
  t.ok(mayWrite(cfg, 'b', 'dossier', known('000.00.01.H56-1', BIRTH, 'x')), 'the agency owner writes a dossier another member created')
  t.notOk(mayWrite(cfg, 'y', 'progress', known('Z-1', BIRTH, 'x')), 'anyone else does not')
  t.ok(mayWrite(cfg, 'gplx', 'progress', known('Z-1', LICENCE, 'x')), 'GPLX: progress on its procedure')
  t.notOk(mayWrite(cfg, 'gplx', 'dossier', known('Z-1', LICENCE, 'x')), 'GPLX: not a record on it (kind not granted)')
  t.notOk(mayWrite(cfg, 'gplx', 'progress', known('Z-1', BIRTH, 'x')), 'GPLX: not progress on another procedure')
  t.ok(mayWrite(cfg, 'district', 'progress', known('000.00.07.H56-1', BIRTH, 'x')), 'a grant by agency code')
  t.ok(mayWrite(cfg, 'tax', 'tax-notice', known('Q-1', BIRTH, 'x')), 'a grant on every dossier')
  t.notOk(mayWrite(cfg, 'tax', 'progress', known('Q-1', BIRTH, 'x')), 'only of the kinds granted')
  t.notOk(mayWrite(cfg, 'nothing', 'progress', known('Q-1', BIRTH, 'x')), 'a rule that names no dossiers grants nothing')
  t.ok(mayWrite(cfg, 'y', 'dossier', { maHoSo: 'Z-9', maTTHC: BIRTH }), 'a new dossier of no mapped agency: anyone sending dossiers creates it')
  t.notOk(mayWrite(cfg, 'y', 'dossier', { maHoSo: '000.00.01.H56-9', maTTHC: BIRTH }), 'a new dossier under another member\'s agency code: refused')
  t.ok(mayWrite(cfg, 'district', 'dossier', { maHoSo: '000.00.07.H56-9', maTTHC: BIRTH }), 'unless granted')
})

type Who = 'onestop' | 'other' | 'vertical' | 'reader'
type Kind = 'dossier' | 'progress'
type Target = 'owned' | 'licence' | 'agency' | 'unknown'

/**
 * What each member may do: `owned` a birth-registration dossier the first one-stop sent,
 * `licence` a driving-licence one it sent (GPLX is granted progress and records on it),
 * `agency` a dossier not yet sent under the first
 * one-stop's agency code, `unknown` a dossier of no mapped agency that nobody sent.
 */
function expected (who: Who, kind: Kind, target: Target): { status: number, code?: string } {
  if (who === 'reader') return { status: 403, code: 'LGSP_ERR_AUTH_KIND_FORBIDDEN' }
  const creates = target === 'agency' || target === 'unknown'
  if (creates && kind === 'progress') return { status: 404, code: 'LGSP_ERR_DOSSIER_NOT_FOUND' }
  if (who === 'onestop') return { status: 202 }
  if (target === 'unknown') return { status: 202 }
  if (who === 'vertical' && target === 'licence') return { status: 202 }
  return { status: 403, code: 'LGSP_ERR_AUTH_DOSSIER_FORBIDDEN' }
}

const creds = (who: Who): { id: string, secret: string } => who === 'other' ? OTHER : members[who]

async function matrixStack (t: Test, store: 'sqlite' | 'redis'): Promise<Stack> {
  const list = [...testMemberList(), { id: OTHER.id, name: 'One-stop B (test)', clientSecret: OTHER.secret, messageKinds: ['dossier', 'progress'], destinations: ['dvcqg'], read: 'own' }]
  const extra: Record<string, unknown> = { members: list, access: access(), facade: { enabled: true } }
  if (store === 'redis') extra.store = { kind: 'redis', redis: await testRedis(t) }
  return await startStack(t, { configExtra: extra })
}

/** One write as `who`: over /v1 (bearer token) or the DVCQG facade (login session, envelope). */
async function write (s: Stack, via: 'v1' | 'facade', who: Who, kind: Kind, body: ReturnType<typeof hoso> | ReturnType<typeof progress>): Promise<{ status: number, code?: string }> {
  const m = creds(who)
  if (via === 'v1') {
    const tok = await s.gateway.app.inject({ method: 'POST', url: '/token', headers: { authorization: `Basic ${Buffer.from(`${m.id}:${m.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' })
    const token = (tok.json() as { access_token: string }).access_token
    const url = kind === 'dossier' ? '/v1/dossiers' : `/v1/dossiers/${body.MaHoSo}/progress`
    const res = await s.gateway.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) })
    const json = res.json() as { code?: string }
    return res.statusCode === 202 ? { status: 202 } : { status: res.statusCode, ...(json.code === undefined ? {} : { code: json.code }) }
  }
  const login = await s.gateway.app.inject({ method: 'POST', url: '/dvcqg/api/auth', headers: { 'content-type': 'application/json' }, payload: { username: m.id, password: m.secret } })
  const session = (login.json() as { session: string }).session
  const service = kind === 'dossier' ? 'DongBoHoSoMC' : 'CapNhatTienDoHoSoMC'
  const res = await s.gateway.app.inject({ method: 'POST', url: '/dvcqg/api/integration', headers: { 'content-type': 'application/json' }, payload: { session, service, madonvi: '000.00.01.H56', data: [body] } })
  const reply = res.json() as { error_code: number | string, code?: string, results?: Array<{ code?: string }> }
  if (String(reply.error_code) === '0') return { status: 202 }
  const code = reply.code ?? reply.results?.find((r) => r.code !== undefined)?.code
  // The facade answers 200 with DVCQG's error codes; the status the same refusal has on /v1.
  const status = code === 'LGSP_ERR_DOSSIER_NOT_FOUND' ? 404 : 403
  return { status, ...(code === undefined ? {} : { code }) }
}

for (const store of ['sqlite', 'redis'] as const) {
  t.test(`member × kind × owned / not owned / unknown on ${store}, over /v1 and the DVCQG facade: refusals are 403 with a stable code and change nothing`, async (t) => {
    const s = await matrixStack(t, store)
    let n = 0
    for (const via of ['v1', 'facade'] as const) {
      for (const who of ['onestop', 'other', 'vertical', 'reader'] as const) {
        for (const kind of ['dossier', 'progress'] as const) {
          for (const target of ['owned', 'licence', 'agency', 'unknown'] as const) {
            n++
            const num = (store === 'redis' ? 5000 : 0) + n
            const base = target === 'agency'
              ? hoso(num, { MaHoSo: `${AGENCY}-240201-${String(num).padStart(4, '0')}`, MaTTHC: BIRTH })
              : target === 'unknown' ? hoso(num, { MaHoSo: `000.00.03.H56-240201-${String(num).padStart(4, '0')}`, MaTTHC: BIRTH }) : hoso(num, { MaTTHC: target === 'licence' ? LICENCE : BIRTH })
            if (target === 'owned' || target === 'licence') {
              const created = await write(s, 'v1', 'onestop', 'dossier', base)
              t.equal(created.status, 202, 'the first one-stop sends its dossier')
            }
            const before = await s.gateway.store.getDossier(base.MaHoSo)
            const body = kind === 'dossier' ? { ...base, ChuHoSo: 'Người Khác', TrangThaiHoSo: '4' as const } : progress(base.MaHoSo, 60, 4, 'Chuyển xử lý')
            const got = await write(s, via, who, kind, body)
            const want = expected(who, kind, target)
            const label = `${via} ${who} ${kind} ${target}`
            t.same(got, want, label)
            const after = await s.gateway.store.getDossier(base.MaHoSo)
            if (want.status !== 202) {
              t.equal(after?.row.version, before?.row.version, `${label}: the ledger is unchanged`)
              t.equal(after?.row.record.ChuHoSo, before?.row.record.ChuHoSo, `${label}: the owner name is unchanged`)
            } else {
              t.equal(after?.row.owner, before?.row.owner ?? creds(who).id, `${label}: the owner stays the creator`)
            }
          }
        }
      }
    }

    // Tax notices: granted to the tax push member on every dossier, refused to a member without a grant.
    const record = hoso(9000 + (store === 'redis' ? 1 : 0), { MaTTHC: BIRTH })
    t.equal((await write(s, 'v1', 'onestop', 'dossier', record)).status, 202)
    const deps = { store: s.gateway.store, adapters: s.gateway.adapters, catalogue: s.gateway.catalogue, access: s.config.access, notify: () => {} }
    const notice = taxNotice(record.MaHoSo, [{ MA_HSO: record.MaHoSo, MA_SO_THUE: '', SO_QUYET_DINH: '1/TB', NGAY_QUYET_DINH: '20240205000000', TEN_TIEUMUC: 'Lệ phí trước bạ', SO_TIEN: 1000 }], '<DATA/>', Date.now())
    const outsider = s.config.members.find((m) => m.id === OTHER.id)!
    await t.rejects(acceptNotice(deps, { ...outsider, messageKinds: ['progress'] }, notice), { code: 'LGSP_ERR_AUTH_DOSSIER_FORBIDDEN' }, 'a member without a grant cannot post a tax notice')
    t.equal((await s.gateway.store.getDossier(record.MaHoSo))?.row.state, 2, 'nothing changed')
    const vertical = s.config.members.find((m) => m.id === members.vertical.id)!
    const ok = await acceptNotice(deps, vertical, notice).catch((err: unknown) => err)
    t.notOk(ok instanceof LgspError, 'a member granted tax-notice on every dossier posts one')
    t.equal((await s.gateway.store.getDossier(record.MaHoSo))?.row.state, 6)
  })
}
