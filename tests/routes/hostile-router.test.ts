import t from 'tap'
import { startStack } from '../helpers.js'

/** A refusal fixture: what is sent, and the problem expected back. */
interface Case { name: string, method: 'GET' | 'POST' | 'DELETE' | 'PUT', url: string, body?: unknown, as?: 'onestop' | 'operator', status: number, code: string }

const cases: Case[] = [
  { name: 'a path parameter past the router\'s limit (fastify answers 414 itself)', method: 'GET', url: `/v1/dossiers/${'a'.repeat(1000)}`, status: 414, code: 'LGSP_ERR_REQUEST_URI_TOO_LONG' },
  { name: 'a URL that does not decode (fastify answers 400 itself)', method: 'GET', url: '/v1/dossiers/%zz', status: 404, code: 'LGSP_ERR_REQUEST_NOT_FOUND' },
  { name: 'an unknown route', method: 'GET', url: '/nothing', status: 404, code: 'LGSP_ERR_REQUEST_NOT_FOUND' },
  { name: 'a method the route does not take', method: 'PUT', url: '/v1/dossiers', body: '{}', status: 404, code: 'LGSP_ERR_REQUEST_NOT_FOUND' },
  { name: 'drill=maybe is not read as false', method: 'GET', url: '/v1/indicators?agency=000.00.01.H56&period=2024-02&drill=maybe', as: 'operator', status: 400, code: 'LGSP_ERR_REQUEST_BAD_PARAMETER' },
  { name: 'drill given twice', method: 'GET', url: '/v1/indicators?agency=000.00.01.H56&period=2024-02&drill=true&drill=false', as: 'operator', status: 400, code: 'LGSP_ERR_REQUEST_BAD_PARAMETER' },
  { name: '"repair": "yes" is not a silent dry run', method: 'POST', url: '/v1/reconcile', body: { agency: '000.00.01.H56', period: '2024-02', repair: 'yes' }, as: 'operator', status: 400, code: 'LGSP_ERR_REQUEST_BAD_PARAMETER' },
  { name: '"repair": 1', method: 'POST', url: '/v1/reconcile', body: { agency: '000.00.01.H56', period: '2024-02', repair: 1 }, as: 'operator', status: 400, code: 'LGSP_ERR_REQUEST_BAD_PARAMETER' },
  { name: 'a dead-letter filter given twice', method: 'GET', url: '/v1/admin/dlq?destination=a&destination=b', as: 'operator', status: 400, code: 'LGSP_ERR_REQUEST_BAD_PARAMETER' },
  { name: 'a body with more JSON values than any message has', method: 'POST', url: '/v1/dossiers', body: JSON.stringify(Array.from({ length: 60_000 }, () => 1)), status: 413, code: 'LGSP_ERR_REQUEST_TOO_LARGE' },
  { name: 'a body past the size limit', method: 'POST', url: '/v1/dossiers', body: `"${'x'.repeat(1_100_000)}"`, status: 413, code: 'LGSP_ERR_REQUEST_TOO_LARGE' },
  { name: 'a content type no route takes', method: 'POST', url: '/v1/dossiers', body: '<x/>', status: 415, code: 'LGSP_ERR_REQUEST_MEDIA_TYPE' }
]

t.test('every refusal, the router\'s and the parsers\' included, is problem+json with a stable code', async (t) => {
  const s = await startStack(t)
  for (const c of cases) {
    const headers: Record<string, string> = { authorization: `Bearer ${await s.token(c.as ?? 'onestop')}` }
    if (c.body !== undefined) headers['content-type'] = c.name.startsWith('a content type') ? 'application/xml' : 'application/json'
    const res = await s.gateway.app.inject({ method: c.method, url: c.url, headers, ...(c.body === undefined ? {} : { payload: typeof c.body === 'string' ? c.body : JSON.stringify(c.body) }) })
    t.equal(res.statusCode, c.status, `${c.name}: status`)
    t.match(res.headers['content-type'], /^application\/problem\+json/, `${c.name}: problem+json`)
    t.equal(res.json().code, c.code, `${c.name}: code`)
  }
})
