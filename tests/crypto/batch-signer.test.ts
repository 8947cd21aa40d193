import t from 'tap'
import { BatchSigner, verifyBatchSignature } from '../../gateway/crypto/batch-signer.js'
import { verifyDetached, parseDetached } from '../../gateway/crypto/jws.js'
import { testPki } from '../helpers.js'

t.test('idle, a message gets a plain signature over itself; a burst shares one signature, each message with its proof', async (t) => {
  const identity = testPki().gateway()
  const cert = identity.chain[0]!
  const signer = new BatchSigner({ identity, batchMax: 1024, intervalMs: 10 })
  const alone = await signer.sign('a single message')
  t.equal(alone.proof, undefined)
  t.ok(verifyDetached(parseDetached(alone.signature), 'a single message', cert.publicKey), 'a plain detached JWS over the message')

  const messages = Array.from({ length: 300 }, (_, i) => `message ${i}`)
  const before = signer.stats.signatures
  const signed = await Promise.all(messages.map((m) => signer.sign(m)))
  t.ok(signer.stats.signatures - before <= 3, `${signer.stats.signatures - before} signatures for 300 messages`)
  t.ok(signed.every((s, i) => verifyBatchSignature(messages[i]!, s, cert).ok), 'every proof verifies')
  t.equal(verifyBatchSignature('message 300', signed[0]!, cert).ok, false, 'a message not in the batch fails')
  t.equal(verifyBatchSignature(messages[1]!, signed[0]!, cert).ok, false, 'another message of the batch with this proof fails')
  t.match(verifyBatchSignature(messages[0]!, { signature: signed[0]!.signature }, cert), { ok: false, reason: /needs its inclusion proof/ })

  const small = new BatchSigner({ identity, batchMax: 16, intervalMs: 0 })
  const capped = await Promise.all(messages.slice(0, 64).map((m) => small.sign(m)))
  t.ok(capped.every((s) => (s.proof?.size ?? 1) <= 16), 'batches stay within batchMax')
})
