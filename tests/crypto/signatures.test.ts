import t from 'tap'
import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import { Pki } from '../../certs/pki.js'
import { batchPayload, decodeProof, verifyBatchSignature, type InclusionProof } from '../../gateway/crypto/batch-signer.js'
import { leafHash, rootFromPath } from '../../gateway/crypto/merkle.js'
import { signDetached } from '../../gateway/crypto/jws.js'
import { sha256Hex } from '../../gateway/crypto/message-log.js'
import { canonicalJson, verifyReceipt, type Receipt } from '../../gateway/crypto/receipts.js'
import { projectRoot } from '../../gateway/paths.js'
import { hoso, members, startStack, tempDir, testConfigDocument, testMemberList, testPki, toolAccepts, waitFor, type Stack } from '../helpers.js'

const run = promisify(execFile)
const cli = join(projectRoot, 'dist', 'gateway', 'cli.js')

const openssl = (args: string[]): Promise<boolean> => toolAccepts('openssl', args)

/** What openssl must check: alone, the message itself; in a batch, the batch size and the Merkle root its proof leads to. */
function signedPayload (message: string, proof: InclusionProof | undefined): string {
  if (proof === undefined) return message
  const root = rootFromPath(leafHash(message), proof.index, proof.size, proof.path.map((x) => Buffer.from(x, 'base64url')))
  return batchPayload(proof.size, root!).toString()
}

const x5c = (chain: readonly X509Certificate[]): string[] => chain.map((c) => c.raw.toString('base64'))

/** Members: the one-stop must sign; the portal keeps digests only. */
const signingMembers = (): Array<Record<string, unknown>> => testMemberList().map((m) =>
  m.id === members.onestop.id ? { ...m, signature: { required: true } } : m.id === members.reader.id ? { ...m, messageKinds: ['dossier'], destinations: ['dvcqg'], logBodies: false } : m)

async function signedStack (t: Parameters<typeof startStack>[0], pkiDir?: string): Promise<Stack> {
  return await startStack(t, { configExtra: { members: signingMembers(), ...(pkiDir === undefined ? {} : { pki: { dir: pkiDir } }) } })
}

/** POSTs a dossier as the one-stop with a signature header made from the exact body text. */
async function postSigned (s: Stack, body: string, signature: string | undefined, member: keyof typeof members = 'onestop') {
  const headers: Record<string, string> = { authorization: `Bearer ${await s.token(member)}`, 'content-type': 'application/json' }
  if (signature !== undefined) headers['x-lgsp-signature'] = signature
  return await s.gateway.app.inject({ method: 'POST', url: '/v1/dossiers', headers, payload: body })
}

t.test('every signature failure has its fixture and code; good signatures in ES256, RS256 and PS256 pass', async (t) => {
  const pki = testPki()
  const s = await signedStack(t)
  const onestop = pki.member(members.onestop.id)
  const vertical = pki.member(members.vertical.id)
  const body = JSON.stringify(hoso(1))
  const good = signDetached(body, onestop.key, { x5c: x5c(onestop.chain) })
  const [h, , sig] = good.split('.') as [string, string, string]
  const header = (o: Record<string, unknown>): string => Buffer.from(JSON.stringify(o)).toString('base64url')

  const other = new Pki(tempDir(t))
  other.init([{ id: members.onestop.id }])
  const stranger = other.member(members.onestop.id)
  const expired = pki.issueMember('onestop-expired', 'ec', { commonName: members.onestop.id, days: 1, notBefore: new Date(Date.now() - 3 * 86_400_000) })

  const fixtures: Array<[string, string | undefined, string]> = [
    ['no signature', undefined, 'LGSP_ERR_SIGNATURE_MISSING'],
    ['not three parts', 'abc', 'LGSP_ERR_SIGNATURE_MALFORMED'],
    ['an attached payload', `${h}.${Buffer.from(body).toString('base64url')}.${sig}`, 'LGSP_ERR_SIGNATURE_MALFORMED'],
    ['alg HS256', `${header({ alg: 'HS256', x5c: x5c(onestop.chain) })}..${sig}`, 'LGSP_ERR_SIGNATURE_MALFORMED'],
    ['alg none', `${header({ alg: 'none' })}..`, 'LGSP_ERR_SIGNATURE_MALFORMED'],
    ['no x5c', signDetached(body, onestop.key), 'LGSP_ERR_SIGNATURE_MALFORMED'],
    ['x5c not a certificate', `${header({ alg: 'ES256', b64: false, crit: ['b64'], x5c: ['bm90IGEgY2VydA=='] })}..${sig}`, 'LGSP_ERR_SIGNATURE_MALFORMED'],
    ['b64:false without crit', `${header({ alg: 'ES256', b64: false, x5c: x5c(onestop.chain) })}..${sig}`, 'LGSP_ERR_SIGNATURE_MALFORMED'],
    ['an unknown crit parameter', `${header({ alg: 'ES256', crit: ['exp'], exp: 1, x5c: x5c(onestop.chain) })}..${sig}`, 'LGSP_ERR_SIGNATURE_MALFORMED'],
    ['a short ES256 signature', `${h}..${Buffer.alloc(63).toString('base64url')}`, 'LGSP_ERR_SIGNATURE_MALFORMED'],
    ['RS256 claimed for an EC key', signDetached(body, onestop.key, { x5c: x5c(onestop.chain) }).replace(h, header({ alg: 'RS256', b64: false, crit: ['b64'], x5c: x5c(onestop.chain) })), 'LGSP_ERR_SIGNATURE_MALFORMED'],
    ['a flipped byte in the signature', `${h}..${Buffer.from(Buffer.from(sig, 'base64url').map((b, i) => i === 10 ? b ^ 1 : b)).toString('base64url')}`, 'LGSP_ERR_SIGNATURE_INVALID'],
    ['a signature over another body', signDetached(JSON.stringify(hoso(2)), onestop.key, { x5c: x5c(onestop.chain) }), 'LGSP_ERR_SIGNATURE_INVALID'],
    ['a chain from an unknown CA', signDetached(body, stranger.key, { x5c: x5c(stranger.chain) }), 'LGSP_ERR_SIGNATURE_UNTRUSTED'],
    ['an expired certificate', signDetached(body, expired.key, { x5c: x5c(expired.chain) }), 'LGSP_ERR_SIGNATURE_EXPIRED'],
    ['a certificate of another member', signDetached(body, vertical.key, { x5c: x5c(vertical.chain) }), 'LGSP_ERR_SIGNATURE_WRONG_MEMBER']
  ]
  for (const [what, signature, code] of fixtures) {
    const res = await postSigned(s, body, signature)
    t.equal(res.statusCode, 401, what)
    t.equal(res.json().code, code, what)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', what)
  }
  t.equal(s.dvcqg.server.counters.requests, 0, 'nothing refused was delivered')
  t.equal((await s.get('onestop', `/v1/dossiers/${hoso(1).MaHoSo}`)).statusCode, 404, 'nor stored')

  const es = await postSigned(s, body, good)
  t.equal(es.statusCode, 202, 'ES256 by the one-stop')
  // The vertical member is not required to sign, but a signature it sends is checked.
  for (const alg of ['RS256', 'PS256'] as const) {
    const b = JSON.stringify(hoso(alg === 'RS256' ? 3 : 4))
    t.equal((await postSigned(s, b, signDetached(b, vertical.key, { alg, x5c: x5c(vertical.chain) }), 'vertical')).statusCode, 202, alg)
    t.equal((await postSigned(s, b, signDetached('{}', vertical.key, { alg, x5c: x5c(vertical.chain) }), 'vertical')).json().code, 'LGSP_ERR_SIGNATURE_INVALID', `${alg} over another body`)
  }
  t.equal((await postSigned(s, JSON.stringify(hoso(5)), undefined, 'vertical')).statusCode, 202, 'unsigned is fine for a member that need not sign')
  const log = await s.gateway.store.readLog({})
  t.equal(log.find((e) => e.direction === 'in' && e.party === members.onestop.id)?.signature, good, 'the member\'s signature is kept in the message log')
})

t.test('a revoked certificate is refused', async (t) => {
  const pki = new Pki(tempDir(t))
  pki.init([{ id: members.onestop.id }])
  const id = pki.member(members.onestop.id)
  pki.revoke(members.onestop.id)
  const s = await signedStack(t, pki.dir)
  const body = JSON.stringify(hoso(1))
  const res = await postSigned(s, body, signDetached(body, id.key, { x5c: x5c(id.chain) }))
  t.equal(res.json().code, 'LGSP_ERR_SIGNATURE_REVOKED')
})

t.test('openssl interop: a request signed with openssl is accepted, the gateway\'s signatures verify with openssl; a flipped byte fails all of them', async (t) => {
  const pki = testPki()
  const s = await signedStack(t)
  const dir = tempDir(t)
  const vertical = pki.member(members.vertical.id)
  const keyPath = join(pki.dir, 'members', members.vertical.id, 'key.pem')
  for (const [alg, extra] of [['RS256', []], ['PS256', ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32']]] as const) {
    const body = JSON.stringify(hoso(alg === 'RS256' ? 10 : 11))
    const headerB64 = Buffer.from(JSON.stringify({ alg, b64: false, crit: ['b64'], x5c: x5c(vertical.chain) })).toString('base64url')
    writeFileSync(join(dir, 'input'), `${headerB64}.${body}`)
    await run('openssl', ['dgst', '-sha256', '-sign', keyPath, ...extra, '-out', join(dir, 'sig'), join(dir, 'input')])
    const jws = `${headerB64}..${readFileSync(join(dir, 'sig')).toString('base64url')}`
    t.equal((await postSigned(s, body, jws, 'vertical')).statusCode, 202, `${alg} made by openssl is accepted`)
    const flipped = body.replace('"MaHoSo":"', '"MaHoSo":"X')
    t.equal((await postSigned(s, flipped, jws, 'vertical')).json().code, 'LGSP_ERR_SIGNATURE_INVALID', `${alg}: a changed body is refused`)
  }

  // The gateway's receipt signature, checked by openssl over the JWS signing input.
  const body = JSON.stringify(hoso(12))
  const onestop = pki.member(members.onestop.id)
  const res = await postSigned(s, body, signDetached(body, onestop.key, { x5c: x5c(onestop.chain) }))
  const receipt = res.json().receipt as Receipt
  const [rh, , rs] = receipt.signature.split('.') as [string, string, string]
  writeFileSync(join(dir, 'gw.pem'), s.gateway.signing.identity.chain[0]!.publicKey.export({ type: 'spki', format: 'pem' }))
  writeFileSync(join(dir, 'r.sig'), Buffer.from(rs, 'base64url'))
  writeFileSync(join(dir, 'r.in'), `${rh}.${signedPayload(canonicalJson(receipt.statement), receipt.proof)}`)
  t.equal(await openssl(['dgst', '-sha256', '-verify', join(dir, 'gw.pem'), '-signature', join(dir, 'r.sig'), join(dir, 'r.in')]), true, `openssl verifies the receipt${receipt.proof === undefined ? '' : ' (batched)'}`)
  writeFileSync(join(dir, 'r.in'), `${rh}.${signedPayload(canonicalJson({ ...receipt.statement, sender: 'someone' }), receipt.proof)}`)
  t.equal(await openssl(['dgst', '-sha256', '-verify', join(dir, 'gw.pem'), '-signature', join(dir, 'r.sig'), join(dir, 'r.in')]), false, 'and refuses it for another statement')

  // A delivered message: DVCQG received it with X-Lgsp-Signature over the exact bytes.
  await waitFor('signed deliveries at DVCQG', () => s.dvcqg.server.signed.length >= 3)
  for (const sent of s.dvcqg.server.signed.slice(0, 3)) {
    const [dh, , ds] = sent.signature.split('.') as [string, string, string]
    const proof = sent.proof === undefined ? undefined : decodeProof(sent.proof)
    const signed = (raw: string): string => signedPayload(raw, proof)
    writeFileSync(join(dir, 'd.sig'), Buffer.from(ds, 'base64url'))
    writeFileSync(join(dir, 'd.in'), `${dh}.${signed(sent.raw)}`)
    t.equal(await openssl(['dgst', '-sha256', '-verify', join(dir, 'gw.pem'), '-signature', join(dir, 'd.sig'), join(dir, 'd.in')]), true, `openssl verifies a delivered message${sent.proof === undefined ? '' : ' (batched)'}`)
    writeFileSync(join(dir, 'd.in'), `${dh}.${signed(sent.raw.replace('"', "'"))}`)
    t.equal(await openssl(['dgst', '-sha256', '-verify', join(dir, 'gw.pem'), '-signature', join(dir, 'd.sig'), join(dir, 'd.in')]), false, 'a flipped byte fails')
  }
})

t.test('under load receipts share a batch signature; every proof verifies, a message not in the batch does not', async (t) => {
  const s = await startStack(t)
  const cert = s.gateway.signing.identity.chain[0]!
  const replies = await Promise.all(Array.from({ length: 120 }, (_, i) => s.post('onestop', '/v1/dossiers', hoso(100 + i))))
  const receipts = replies.map((r) => r.json().receipt as Receipt)
  t.ok(receipts.every((r) => verifyReceipt(r, cert).ok), 'every receipt verifies with the certificate alone')
  const batched = receipts.filter((r) => r.proof !== undefined)
  t.ok(batched.length > 0, `${batched.length} of 120 receipts were batched (largest batch ${s.gateway.signing.batch.stats.largestBatch})`)
  t.ok(s.gateway.signing.batch.stats.signatures < 120, `${s.gateway.signing.batch.stats.signatures} signatures for 120 receipts`)
  const r = batched[0]!
  t.match(verifyReceipt({ ...r, statement: { ...r.statement, sender: 'someone-else' } }, cert), { ok: false, reason: /not in the signed batch/ })
  const sibling = batched.find((x) => x.signature === r.signature && x.proof!.index !== r.proof!.index)
  if (sibling !== undefined) t.equal(verifyReceipt({ ...r, proof: sibling.proof! }, cert).ok, false, 'another message\'s proof does not fit')
  t.equal(verifyReceipt({ ...r, proof: { ...r.proof!, size: r.proof!.size + 7 } }, cert).ok, false, 'a wrong batch size fails')
  t.equal(verifyReceipt(r, cert, JSON.stringify(hoso(999))).ok, false, 'checked against another body, it fails')
  const other = new Pki(tempDir(t))
  other.init()
  t.equal(verifyReceipt(r, other.gateway().chain[0]!).ok, false, 'another gateway\'s certificate fails')

  // Deliveries are signed too; batched ones carry their proof.
  await waitFor('120 signed deliveries', () => s.dvcqg.server.signed.length >= 120)
  for (const m of s.dvcqg.server.signed) {
    const check = verifyBatchSignature(m.raw, m.proof === undefined ? { signature: m.signature } : { signature: m.signature, proof: decodeProof(m.proof) }, cert)
    if (!check.ok) t.fail(`delivery to ${m.path} does not verify: ${check.reason}`)
  }
  t.pass('every delivered message verifies')
})

t.test('the message log holds every message in and out, and lgsp log verify / export / verify receipt work offline', async (t) => {
  const pki = testPki()
  const s = await signedStack(t)
  const onestop = pki.member(members.onestop.id)
  for (let i = 0; i < 5; i++) {
    const body = JSON.stringify(hoso(200 + i))
    t.equal((await postSigned(s, body, signDetached(body, onestop.key, { x5c: x5c(onestop.chain) }))).statusCode, 202)
  }
  const digestOnly = await s.post('reader', '/v1/dossiers', hoso(300))
  t.equal(digestOnly.statusCode, 202)
  await waitFor('delivered', async () => (await s.gateway.store.queueStats()).every((q) => q.pending + q.inflight === 0) && s.dvcqg.dossiers.size === 6)
  const log = await s.gateway.store.readLog({})
  t.equal(log.filter((e) => e.direction === 'in').length, 6)
  t.equal(log.filter((e) => e.direction === 'out').length, 6, 'each delivery, logged before it left')
  const sent = s.dvcqg.server.signed.map((m) => sha256Hex(m.raw))
  t.ok(log.filter((e) => e.direction === 'out').every((e) => sent.includes(e.contentHash)), 'the log holds exactly what DVCQG received')
  const reader = log.filter((e) => e.messageId === digestOnly.json().messageId)
  t.same(reader.map((e) => [e.direction, e.body]), [['in', null], ['out', null]], 'a digest-only member: no body in or out')
  t.ok(reader.every((e) => /^[0-9a-f]{64}$/.test(e.contentHash)))

  const file = join(s.dir, 'cli.config.json')
  writeFileSync(file, JSON.stringify(testConfigDocument(s.dir, s.dvcqg.url, s.onestop.url, { members: signingMembers() })))
  const lgsp = async (...args: string[]): Promise<{ code: number, out: any }> => {
    try {
      const { stdout } = await run(process.execPath, [cli, ...args, '--json', '--config', file])
      return { code: 0, out: JSON.parse(stdout) }
    } catch (err) {
      const e = err as { code: number, stdout: string }
      return { code: e.code, out: JSON.parse(e.stdout) }
    }
  }
  await s.gateway.signing.checkpoint()
  const ok = await lgsp('log', 'verify')
  t.match(ok, { code: 0, out: { ok: true, entries: 12, uncovered: 0 } })

  const archive = join(s.dir, 'audit.jsonl')
  t.match(await lgsp('log', 'export', '--from', '2000-01-01', '--to', new Date(Date.now() + 60_000).toISOString(), '--out', archive), { code: 0, out: { entries: 12 } })
  const certPath = join(pki.dir, 'gateway', 'cert.pem')
  t.match(await lgsp('log', 'verify', '--archive', archive, '--cert', certPath), { code: 0, out: { ok: true, entries: 12 } })
  writeFileSync(archive, readFileSync(archive, 'utf8').replace(/"party":"onestop-test"/, '"party":"someone-else"'))
  t.match(await lgsp('log', 'verify', '--archive', archive, '--cert', certPath), { code: 1, out: { ok: false, problems: [{ kind: 'changed' }] } })

  const receiptFile = join(s.dir, 'receipt.json')
  writeFileSync(receiptFile, JSON.stringify(digestOnly.json()))
  t.match(await lgsp('verify', receiptFile), { code: 0, out: { ok: true, messageId: digestOnly.json().messageId } })
  writeFileSync(receiptFile, JSON.stringify({ ...digestOnly.json(), receipt: { ...digestOnly.json().receipt, statement: { ...digestOnly.json().receipt.statement, receivedAt: '2020-01-01T00:00:00.000Z' } } }))
  t.match(await lgsp('verify', receiptFile), { code: 1, out: { ok: false } })

  // Who sent what: the first signed dossier, in and out, signatures checked again.
  const first = log.find((e) => e.direction === 'in' && e.party === members.onestop.id)!
  const shown = await lgsp('log', 'show', '--message', first.messageId)
  t.match(shown, { code: 0, out: [
    { direction: 'in', party: members.onestop.id, signature: { checked: true, valid: true, signer: /CN=onestop-test/, alg: 'ES256', chain: 'trusted at the time of the entry' } },
    { direction: 'out', party: 'dvcqg', signature: { checked: true, valid: true, signer: /CN=lgsp-gateway/ } }
  ] })
  t.match(await lgsp('log', 'show', '--message', digestOnly.json().messageId), { code: 0, out: [{ signature: { checked: false, reason: 'not signed' } }, { signature: { checked: false, reason: /digest only/ } }] })
  t.match(await lgsp('log', 'show', '--message', 'no-such-message'), { code: 1, out: [] })

  // Someone edits the database behind the gateway's back.
  const db = new Database(join(s.dir, 'lgsp.db'))
  db.prepare("UPDATE message_log SET body = replace(body, 'H56', 'H99') WHERE seq = 3").run()
  db.close()
  t.match(await lgsp('log', 'verify'), { code: 1, out: { ok: false, problems: [{ kind: 'changed', seq: 3 }] } })
})

t.test('a signed checkpoint is written at shutdown, covering every entry', async (t) => {
  const s = await startStack(t)
  for (let i = 0; i < 3; i++) await s.post('onestop', '/v1/dossiers', hoso(400 + i))
  await waitFor('delivered', () => s.dvcqg.dossiers.size === 3)
  await s.gateway.close()
  const db = new Database(join(s.dir, 'lgsp.db'), { readonly: true })
  const last = db.prepare('SELECT max(seq) AS seq FROM message_log').get() as { seq: number }
  const cp = db.prepare('SELECT seq FROM log_checkpoints ORDER BY seq DESC LIMIT 1').get() as { seq: number } | undefined
  db.close()
  t.equal(last.seq, 6, 'three in, three out')
  t.equal(cp?.seq, 6)
})
