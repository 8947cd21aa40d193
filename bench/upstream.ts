/**
 * A bare DVCQG-shaped upstream for the end-to-end scenario: the login (`POST /api/auth` →
 * `{error_code: 0, session}`) and the integration service (`POST /api/integration` →
 * `{error_code: 0}`) answer at once, no faults. It counts the integration calls (the
 * deliveries) and answers the count on `GET /count`, so the bench reads what arrived, not
 * what the gateway says it sent. Prints its port on stdout.
 */
import Fastify from 'fastify'

let delivered = 0
const app = Fastify({ logger: false, bodyLimit: 1048576 })
app.post('/api/auth', async () => ({ error_code: 0, message: 'ok', session: 'bench-session' }))
app.post('/api/integration', async () => {
  delivered++
  return { error_code: 0, message: 'Thành công' }
})
app.get('/count', async () => ({ delivered }))
const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`${new URL(url).port}\n`)
