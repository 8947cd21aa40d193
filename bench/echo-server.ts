/**
 * The baseline: a bare fastify route that parses a JSON body and answers 202, no auth, no
 * validation, no storage. Prints its port on stdout.
 */
import Fastify from 'fastify'

const app = Fastify({ logger: false, bodyLimit: 1048576 })
app.post('/echo', async (req, reply) => {
  reply.code(202)
  return { received: typeof req.body === 'object' }
})
const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`${new URL(url).port}\n`)
