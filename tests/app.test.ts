import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { Agent, request } from 'undici'
import { keyToPem } from '../certs/x509.js'
import { members, startStack, tempDir, testPki, type Stack } from './helpers.js'

type Line = Record<string, any> & { msg: string }
const requestLines = (s: Stack): Line[] => s.logs.flatMap((l) => l.split('\n')).filter((l) => l.length > 0).map((l) => JSON.parse(l) as Line).filter((l) => l.msg === 'request')

t.test('an incoming X-Request-Id is the request id when it is visible ASCII of at most 128 characters', async (t) => {
  const s = await startStack(t)
  const mine = 'province-lb-7f3a:0001'
  const res = await s.gateway.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': mine } })
  t.equal(res.headers['x-request-id'], mine, 'echoed')
  t.match(requestLines(s).at(-1), { reqId: mine }, 'and logged')
  for (const bad of ['x'.repeat(129), 'has space', 'mã-hồ-sơ']) {
    const other = await s.gateway.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': bad } })
    t.not(other.headers['x-request-id'], bad, `refused: ${bad.slice(0, 12)}`)
    t.match(other.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'a new id instead')
  }
})

t.test('a W3C traceparent puts its trace id on the request\'s log lines; the accept line names the message the deliveries log', async (t) => {
  const s = await startStack(t)
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
  const { hoso } = await import('./helpers.js')
  const res = await s.post('onestop', '/v1/dossiers', hoso(1), { traceparent: `00-${traceId}-00f067aa0ba902b7-01` })
  t.equal(res.statusCode, 202)
  const messageId = (res.json() as { messageId: string }).messageId
  t.match(requestLines(s).at(-1), { traceId, messageId, status: 202 })
  await s.gateway.app.inject({ method: 'GET', url: '/healthz', headers: { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` } })
  t.notOk('traceId' in requestLines(s).at(-1)!, 'an invalid traceparent is ignored')
})

t.test('with http.trustProxy the PayGov callback allow-list sees the client behind the proxy (X-Forwarded-For)', async (t) => {
  const callback = async (s: Stack, forwardedFor: string): Promise<string | undefined> => {
    const res = await s.gateway.app.inject({ method: 'POST', url: '/v1/callbacks/paygov', headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor }, payload: '{}' })
    return (res.json() as { code?: string }).code
  }
  const behind = await startStack(t, { configExtra: { http: { host: '127.0.0.1', port: 0, trustProxy: ['127.0.0.1'] } } })
  behind.config.payments!.callbackAllowFrom.push('192.0.2.10')
  t.equal(await callback(behind, '203.0.113.5'), 'LGSP_ERR_CALLBACK_SOURCE', 'another client behind the proxy is refused')
  t.equal(await callback(behind, '192.0.2.10'), 'LGSP_ERR_CALLBACK_MALFORMED', 'PayGov behind the proxy passes the source check')
  const direct = await startStack(t)
  direct.config.payments!.callbackAllowFrom.push('192.0.2.10')
  t.equal(await callback(direct, '192.0.2.10'), 'LGSP_ERR_CALLBACK_SOURCE', 'without trustProxy the header is not believed')
})

t.test('http.tls serves HTTPS, and with clientCaFile only clients with a certificate from that CA get through (mTLS)', async (t) => {
  const dir = tempDir(t)
  const pki = testPki()
  const server = pki.gateway()
  const client = pki.member(members.onestop.id)
  const ca = server.chain.at(-1)!.toString()
  const files = { keyFile: join(dir, 'server.key'), certFile: join(dir, 'server.pem'), clientCaFile: join(dir, 'ca.pem') }
  writeFileSync(files.keyFile, keyToPem(server.key))
  writeFileSync(files.certFile, server.chain.map((c) => c.toString()).join(''))
  writeFileSync(files.clientCaFile, ca)
  // The dev certificates name members, not hosts: the test checks the chain, not the name.
  const connect = { ca, checkServerIdentity: () => undefined }

  const tls = await startStack(t, { listen: true, configExtra: { http: { host: '127.0.0.1', port: 0, tls: { keyFile: files.keyFile, certFile: files.certFile } } } })
  t.match(tls.gateway.url, /^https:\/\//)
  const plain = new Agent({ connect })
  t.teardown(() => plain.close())
  t.equal((await request(`${tls.gateway.url}/healthz`, { dispatcher: plain })).statusCode, 200, 'HTTPS')

  const mtls = await startStack(t, { listen: true, configExtra: { http: { host: '127.0.0.1', port: 0, tls: files } } })
  await t.rejects(request(`${mtls.gateway.url}/healthz`, { dispatcher: plain }), 'no client certificate: the handshake fails')
  const withCert = new Agent({ connect: { ...connect, key: keyToPem(client.key), cert: client.chain.map((c) => c.toString()).join('') } })
  t.teardown(() => withCert.close())
  t.equal((await request(`${mtls.gateway.url}/healthz`, { dispatcher: withCert })).statusCode, 200, 'a member certificate from the CA gets through')
})
