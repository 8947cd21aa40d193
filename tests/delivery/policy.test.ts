import t from 'tap'
import { CircuitBreaker, defaultBreakerSettings } from '../../gateway/delivery/circuit-breaker.js'
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

/** A repeatable random source (mulberry32), so a rate test fails the same way every run. */
function seeded (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6D2B79F5) | 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const rateSettings = { windowSize: 20, minimumCalls: 10, failureRateThreshold: 0.5, openMs: 100, maxOpenMs: 400, halfOpenCalls: 3 }

t.test('with the default window, 30% random failures (almost) never open the breaker', async (t) => {
  for (const seed of [1, 2, 3]) {
    const b = new CircuitBreaker({ ...defaultBreakerSettings, openMs: 100, maxOpenMs: 400 })
    const random = seeded(seed)
    let refused = 0
    let now = 0
    for (let i = 0; i < 2000; i++) {
      now += 10
      if (b.allowance(now, 1) === 0) { refused++; continue }
      if (random() < 0.3) b.onFailure(now)
      else b.onSuccess()
    }
    t.ok(b.opened <= 1, `seed ${seed}: opened ${b.opened} times in 2000 calls`)
    t.ok(refused < 2000 * 0.01, `seed ${seed}: ${refused} calls held back`)
  }
})

t.test('the default breaker opens a down destination after minimumCalls failures', async (t) => {
  const b = new CircuitBreaker(defaultBreakerSettings)
  for (let i = 0; i < defaultBreakerSettings.minimumCalls - 1; i++) b.onFailure(0)
  t.equal(b.state, 'closed')
  b.onFailure(0)
  t.equal(b.state, 'open')
})

t.test('at 100% failures the breaker opens once minimumCalls calls are in the window, not before', async (t) => {
  const b = new CircuitBreaker(rateSettings)
  for (let i = 0; i < 9; i++) b.onFailure(0)
  t.equal(b.state, 'closed', 'nine calls are fewer than minimumCalls')
  b.onFailure(0)
  t.equal(b.state, 'open')
  t.equal(b.allowance(50, 8), 0)
  t.equal(b.opened, 1)
})

t.test('a window of mostly successes stays closed; the oldest outcomes slide out', async (t) => {
  const b = new CircuitBreaker(rateSettings)
  for (let i = 0; i < 20; i++) b.onSuccess()
  for (let i = 0; i < 9; i++) b.onFailure(0)
  t.equal(b.state, 'closed', '9 of 20 is under 50%')
  b.onFailure(0)
  t.equal(b.state, 'open', '10 of the last 20 reaches 50%')
})

t.test('half-open lets several probes through and closes after successful ones', async (t) => {
  const b = new CircuitBreaker(rateSettings)
  for (let i = 0; i < 10; i++) b.onFailure(0)
  t.equal(b.allowance(100, 8), 3, 'halfOpenCalls probes')
  t.equal(b.state, 'half-open')
  t.equal(b.allowance(100, 8), 0, 'no more until they report')
  b.onSuccess()
  t.equal(b.state, 'half-open', 'one success of three does not decide yet')
  b.onSuccess()
  t.equal(b.state, 'closed', 'two of three succeeded: the rate can no longer reach 50%')
  t.equal(b.allowance(100, 8), 8)
})

t.test('failed probes reopen the circuit for twice as long, up to maxOpenMs; unused probes go back', async (t) => {
  const b = new CircuitBreaker(rateSettings)
  for (let i = 0; i < 10; i++) b.onFailure(0)
  t.equal(b.openUntil, 100)
  t.equal(b.allowance(100, 8), 3)
  b.release(2)
  t.equal(b.allowance(100, 8), 2, 'the two probes not used are granted again')
  b.onFailure(100)
  b.onFailure(100)
  t.equal(b.state, 'open', 'two failed probes of three reach 50%')
  t.equal(b.openUntil, 300, 'reopened for twice as long')
  t.equal(b.allowance(300, 8), 3)
  b.onFailure(300)
  b.onFailure(300)
  t.equal(b.openUntil, 300 + 400, 'capped at maxOpenMs')
  t.equal(b.opened, 3)
})
