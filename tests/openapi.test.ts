import t, { type Test } from 'tap'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020 } from 'ajv/dist/2020.js'
import * as addFormatsModule from 'ajv-formats'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type * as AppModule from '../gateway/app.js'
import { isDvcqgDate } from '../gateway/ledger/dates.js'
import { hoso, members, progress, startStack } from './helpers.js'

const addFormats = addFormatsModule.default.default
const DOC_ID = 'https://lgsp.gov.vn/openapi.json'

interface Seen { method: string, url: string }

/**
 * The gateway's app, built again beside the stack's (same store, adapters, workers) with
 * fastify's onRoute hook added first, so every route registered is seen.
 */
async function appWithRoutes (t: Test, s: Awaited<ReturnType<typeof startStack>>): Promise<{ app: FastifyInstance, routes: Seen[] }> {
  const routes: Seen[] = []
  const real = await import('fastify')
  const wrapped = (opts: Parameters<typeof real.default>[0]): FastifyInstance => {
    const app = real.default(opts) as unknown as FastifyInstance
    app.addHook('onRoute', (r) => { for (const m of [r.method].flat()) routes.push({ method: m, url: r.url }) })
    return app
  }
  const { buildApp } = await t.mockImport<typeof AppModule>('../gateway/app.js', { fastify: { ...real, default: wrapped } })
  const g = s.gateway
  const app = await buildApp(s.config, { store: g.store, adapters: g.adapters, catalogue: g.catalogue, logger: g.logger, delivery: g.delivery, payments: g.payments, statistics: g.statistics, signing: g.signing })
  t.teardown(async () => { await app.close() })
  await app.ready()
  return { app, routes }
}

/** `/v1/dossiers/:maHoSo` as OpenAPI writes it. */
const openapiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}')
const pointer = (...parts: string[]): string => parts.map((p) => `/${encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))}`).join('')

t.test('the OpenAPI document is valid 3.1, documents every route, and real replies match it', async (t) => {
  const s = await startStack(t)
  const { app, routes } = await appWithRoutes(t, s)

  const res = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(res.statusCode, 200)
  const doc = res.json() as { openapi: string, paths: Record<string, Record<string, any>>, components: { schemas: Record<string, unknown> } }
  t.equal(doc.openapi, '3.1.0')

  const validator = new Validator()
  const result = await validator.validate(doc as unknown as Parameters<Validator['validate']>[0])
  t.same(result.errors ?? [], [], 'no errors from an independent OpenAPI validator')
  t.equal(result.valid, true, 'valid OpenAPI')
  t.equal(validator.version, '3.1', 'checked as OpenAPI 3.1')

  // The request bodies are the schemas intake validates with.
  t.same(doc.paths['/v1/dossiers']!.post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/DossierRequest' })
  t.same(doc.paths['/v1/dossiers/{maHoSo}/progress']!.post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/ProgressRequest' })
  t.ok(doc.components.schemas.HoSo, 'HoSo is a component')

  // Every registered route (fastify's automatic HEAD twins and the reference page's own files aside).
  const relevant = routes.filter((r) => r.method !== 'HEAD' && !r.url.startsWith('/docs'))
  t.ok(relevant.length >= 20, `${relevant.length} routes seen`)
  for (const r of relevant) {
    const op = doc.paths[openapiPath(r.url)]?.[r.method.toLowerCase()]
    t.ok(op, `${r.method} ${r.url} is documented`)
    if (op === undefined) continue
    t.ok(typeof op.summary === 'string' && op.summary !== '', `${r.method} ${r.url} has a summary`)
    const statuses = Object.keys(op.responses ?? {})
    t.ok(statuses.some((st) => st.startsWith('2')), `${r.method} ${r.url} documents its success`)
    for (const st of statuses.filter((x) => Number(x) >= 400)) {
      // problem+json, or the reply format a protocol imposes (PayGov's IPN reply), with `code`.
      const contents = Object.values(op.responses[st].content ?? {}) as Array<{ schema?: { properties?: { code?: { enum?: unknown } } } }>
      t.ok(contents.length > 0 && contents.every((c) => Array.isArray(c.schema?.properties?.code?.enum)), `${r.method} ${r.url} ${st} lists its problem codes`)
    }
  }
  t.ok(app.hasRoute({ method: 'GET', url: '/docs' }) || routes.some((r) => r.url === '/docs'), 'the reference page is served')
  const page = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(page.statusCode, 200)
  t.match(page.body, /swagger-ui/i)

  // Replies of the suite's flows against the documented response schemas.
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false })
  addFormats(ajv, ['email', 'uri', 'date-time'])
  ajv.addFormat('dvcqg-datetime', { type: 'string', validate: isDvcqgDate })
  ajv.addSchema(doc as object, DOC_ID)
  const checked: string[] = []
  const conforms = (method: string, url: string, reply: LightMyRequestResponse, status: number): void => {
    t.equal(reply.statusCode, status, `${method} ${url} answers ${status}`)
    const type = String(reply.headers['content-type']).split(';')[0]!
    const path = openapiPath(url)
    const response = doc.paths[path]?.[method.toLowerCase()]?.responses?.[String(reply.statusCode)]
    t.ok(response?.content?.[type], `${method} ${url} ${reply.statusCode} ${type} is documented`)
    if (response?.content?.[type] === undefined) return
    const validate = ajv.compile({ $ref: `${DOC_ID}#${pointer('paths', path, method.toLowerCase(), 'responses', String(reply.statusCode), 'content', type, 'schema')}` })
    const ok = validate(reply.json())
    t.ok(ok, `${method} ${url} ${reply.statusCode} matches its documented schema`, { errors: validate.errors, body: reply.json() })
    checked.push(`${method} ${url} ${reply.statusCode}`)
  }
  const basic = (m: { id: string, secret: string }): string => `Basic ${Buffer.from(`${m.id}:${m.secret}`).toString('base64')}`
  const form = { 'content-type': 'application/x-www-form-urlencoded' }

  const tokenReply = await app.inject({ method: 'POST', url: '/token', headers: { ...form, authorization: basic(members.onestop) }, payload: 'grant_type=client_credentials' })
  conforms('POST', '/token', tokenReply, 200)
  const token = (tokenReply.json() as { access_token: string }).access_token
  conforms('POST', '/token', await app.inject({ method: 'POST', url: '/token', headers: { ...form, authorization: basic(members.onestop) }, payload: 'grant_type=password' }), 400)
  conforms('POST', '/token', await app.inject({ method: 'POST', url: '/token', headers: { ...form, authorization: basic({ id: members.onestop.id, secret: 'wrong-secret-000000' }) }, payload: 'grant_type=client_credentials' }), 401)

  const bearer = (tok: string): Record<string, string> => ({ authorization: `Bearer ${tok}`, 'content-type': 'application/json' })
  const record = hoso(1)
  conforms('POST', '/v1/dossiers', await app.inject({ method: 'POST', url: '/v1/dossiers', headers: bearer(token), payload: JSON.stringify(record) }), 202)
  conforms('POST', '/v1/dossiers', await app.inject({ method: 'POST', url: '/v1/dossiers', headers: bearer(token), payload: JSON.stringify([hoso(2), { ...hoso(3), TenTTHC: undefined, KenhThucHien: undefined }]) }), 202)
  conforms('POST', '/v1/dossiers/:maHoSo/progress', await app.inject({ method: 'POST', url: `/v1/dossiers/${record.MaHoSo}/progress`, headers: bearer(token), payload: JSON.stringify(progress(record.MaHoSo, 60, 4)) }), 202)
  // An entry older than the status: kept as history (outcomes say so).
  conforms('POST', '/v1/dossiers/:maHoSo/progress', await app.inject({ method: 'POST', url: `/v1/dossiers/${record.MaHoSo}/progress`, headers: bearer(token), payload: JSON.stringify([progress(record.MaHoSo, 30, 3)]) }), 202)
  conforms('GET', '/v1/dossiers/:maHoSo', await app.inject({ method: 'GET', url: `/v1/dossiers/${record.MaHoSo}`, headers: bearer(token) }), 200)

  // Refusals.
  conforms('POST', '/v1/dossiers', await app.inject({ method: 'POST', url: '/v1/dossiers', headers: bearer(token), payload: JSON.stringify({ ...hoso(4), MaTTHC: undefined }) }), 422)
  conforms('POST', '/v1/dossiers', await app.inject({ method: 'POST', url: '/v1/dossiers', headers: bearer(token), payload: '{"MaHoSo": ' }), 400)
  conforms('POST', '/v1/dossiers', await app.inject({ method: 'POST', url: '/v1/dossiers', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(hoso(5)) }), 401)
  conforms('GET', '/v1/dossiers/:maHoSo', await app.inject({ method: 'GET', url: '/v1/dossiers/000.00.01.H56-249999-9999', headers: bearer(token) }), 404)
  conforms('POST', '/v1/dossiers/:maHoSo/progress', await app.inject({ method: 'POST', url: `/v1/dossiers/${record.MaHoSo}/progress`, headers: bearer(token), payload: JSON.stringify(progress(hoso(6).MaHoSo, 90, 5)) }), 422)
  conforms('GET', '/v1/admin/queues', await app.inject({ method: 'GET', url: '/v1/admin/queues', headers: bearer(token) }), 403)

  const operator = (await app.inject({ method: 'POST', url: '/token', headers: { ...form, authorization: basic(members.operator) }, payload: 'grant_type=client_credentials' })).json() as { access_token: string }
  conforms('GET', '/v1/admin/queues', await app.inject({ method: 'GET', url: '/v1/admin/queues', headers: bearer(operator.access_token) }), 200)
  conforms('GET', '/v1/admin/dlq', await app.inject({ method: 'GET', url: '/v1/admin/dlq', headers: bearer(operator.access_token) }), 200)
  conforms('POST', '/v1/admin/dlq/:id/replay', await app.inject({ method: 'POST', url: '/v1/admin/dlq/999999/replay', headers: { authorization: `Bearer ${operator.access_token}` } }), 404)
  // PayGov's callback answers refusals in PayGov's own reply format.
  const callback = await app.inject({ method: 'POST', url: '/v1/callbacks/paygov', headers: { 'content-type': 'application/json' }, payload: '{}' })
  t.ok(callback.statusCode >= 400, 'an empty IPN is refused')
  conforms('POST', '/v1/callbacks/paygov', callback, callback.statusCode)
  conforms('GET', '/healthz', await app.inject({ method: 'GET', url: '/healthz' }), 200)
  conforms('GET', '/readyz', await app.inject({ method: 'GET', url: '/readyz' }), 200)
  t.ok(checked.length >= 20, `${checked.length} replies checked`)
})

t.test('with openapi.enabled false there is no document and no reference page, and intake is unchanged', async (t) => {
  const s = await startStack(t, { configExtra: { openapi: { enabled: false } } })
  t.equal((await s.gateway.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode, 404)
  t.equal((await s.gateway.app.inject({ method: 'GET', url: '/docs' })).statusCode, 404)
  t.equal((await s.post('onestop', '/v1/dossiers', hoso(1))).statusCode, 202)
  t.equal((await s.post('onestop', '/v1/dossiers', { ...hoso(2), MaTTHC: undefined })).json().code, 'LGSP_ERR_REQUEST_INVALID')
})
