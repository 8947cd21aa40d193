import t from 'tap'
import { CircuitBreaker } from '../../gateway/delivery/circuit-breaker.js'
import { backoffMs, onFailure } from '../../gateway/delivery/retry-policy.js'

const policy = { baseMs: 100, maxMs: 10_000, maxAttempts: 0 }

t.test('backoff doubles with jitter and stays under the cap', async (t) => {
  t.equal(backoffMs(1, policy, () => 0), 50)
  t.equal(backoffMs(1, policy, () => 1), 100)
  t.equal(backoffMs(4, policy, () => 1), 800)
  t.equal(backoffMs(40, policy, () => 1), 10_000)
  t.equal(backoffMs(40, policy, () => 0), 5_000, 'never less than half the step')
})

t.test('retryable failures retry, rejections dead-letter, Retry-After is honoured', async (t) => {
  const now = 1_000_000
  t.match(onFailure(1, 1, { ok: false, code: 'LGSP_ERR_UPSTREAM_TIMEOUT', message: 'x', uncertain: true }, policy, now, () => 0), { outcome: 'retry', nextAt: now + 50, uncertain: true })
  t.match(onFailure(1, 1, { ok: false, code: 'LGSP_ERR_DVCQG_REJECTED', message: 'x', uncertain: false }, policy, now), { outcome: 'dead', code: 'LGSP_ERR_DVCQG_REJECTED' })
  t.match(onFailure(1, 1, { ok: false, code: 'LGSP_ERR_UPSTREAM_RATE_LIMITED', message: 'x', uncertain: false, retryAfterMs: 30_000 }, policy, now), { outcome: 'retry', nextAt: now + 30_000 })
  t.match(onFailure(1, 3, { ok: false, code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE', message: 'HTTP 503', uncertain: false }, { ...policy, maxAttempts: 3 }, now), { outcome: 'dead', error: /gave up after 3 attempts/ })
})

t.test('the breaker opens after repeated failures, probes once, and backs off', async (t) => {
  const b = new CircuitBreaker({ failureThreshold: 3, openMs: 100, maxOpenMs: 300 })
  t.equal(b.allowance(0, 8), 8)
  for (let i = 0; i < 3; i++) b.onFailure(0)
  t.equal(b.state, 'open')
  t.equal(b.allowance(50, 8), 0)
  t.equal(b.allowance(100, 8), 1, 'one probe when half-open')
  t.equal(b.allowance(100, 8), 0, 'only one')
  b.onFailure(100)
  t.equal(b.openUntil, 300, 'reopened for twice as long')
  t.equal(b.allowance(300, 8), 1)
  b.onSuccess()
  t.equal(b.state, 'closed')
  t.equal(b.allowance(300, 8), 8)
})
