/**
 * The peer the end-to-end scenario compares lgsp with: the obvious design of the same job.
 * `node peer.js server <redisUrl>`: fastify validates a dossier with the gateway's own ajv
 * schemas (gateway/validation.ts) and adds it to a BullMQ queue on Redis (the bench runs
 * Redis with appendfsync always, so the 202 follows the fsync, as lgsp's does); prints its port.
 * `node peer.js worker <redisUrl> <upstreamUrl>`: a BullMQ worker process that sends each job
 * to the DVCQG-shaped upstream (bench/upstream.ts) as DongBoHoSoMC.
 * No auth, no ledger, no message log, no signatures: a floor on the work, not a gateway.
 */
import Fastify from 'fastify'
import { Queue, Worker } from 'bullmq'
import { createClient } from 'redis'
import { Pool } from 'undici'
import { checkSchema, validators } from '../gateway/validation.js'
import { LgspError } from '../gateway/errors.js'

const [mode, redisUrl, upstream] = process.argv.slice(2)
// The project's node-redis client (BullMQ takes it in place of ioredis, which it no longer bundles).
const connection = (): ReturnType<typeof createClient> => createClient({ url: redisUrl! })
const QUEUE = 'dossiers'

if (mode === 'server') {
  const queue = new Queue(QUEUE, { connection: connection() as never })
  const app = Fastify({ logger: false, bodyLimit: 1048576 })
  app.post('/v1/dossiers', async (req, reply) => {
    try {
      checkSchema(validators.dossierRequest, req.body)
    } catch (err) {
      if (err instanceof LgspError) return reply.code(422).send({ code: err.code })
      throw err
    }
    const job = await queue.add('dossier', req.body, { removeOnComplete: true, removeOnFail: 1000, attempts: 10, backoff: { type: 'exponential', delay: 500 } })
    reply.code(202)
    return { messageId: job.id }
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  process.stdout.write(`${new URL(url).port}\n`)
  process.once('SIGTERM', () => { void app.close().then(async () => queue.close()).then(() => process.exit(0)) })
} else {
  const pool = new Pool(upstream!, { connections: 64 })
  const worker = new Worker(QUEUE, async (job) => {
    const res = await pool.request({
      path: '/api/integration',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ session: 'bench-session', madonvi: 'x', service: 'DongBoHoSoMC', isUpdating: 'False', data: [job.data] })
    })
    const reply = await res.body.json() as { error_code: unknown }
    if (res.statusCode !== 200 || String(reply.error_code) !== '0') throw new LgspError('LGSP_ERR_UPSTREAM_BAD_REPLY', `upstream answered ${res.statusCode}`)
  }, { connection: connection() as never, concurrency: Number(process.env.BENCH_PEER_CONCURRENCY ?? 128) })
  await worker.waitUntilReady()
  process.stdout.write('ready\n')
  process.once('SIGTERM', () => { void worker.close().then(async () => pool.close()).then(() => process.exit(0)) })
}
