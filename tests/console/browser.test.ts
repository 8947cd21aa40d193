/**
 * The console in a real browser (Debian's chromium driven by playwright-core) against a real
 * gateway and its simulators: log in, see DVCQG go red when its simulator fails, filter the dead
 * letters by code, open one and see each attempt, replay it and see it delivered, follow a
 * dossier from the search box, see a closed period's two revisions side by side, reach the
 * dossier behind an indicator (late by working days), compare a one-stop's own list, and never
 * see personal data unmasked. Screenshots of every page go to
 * bench/results/console/ (LGSP_SCREENSHOT_DIR overrides it).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { chromium, type Page } from 'playwright-core'
import { CITIZEN_ID, hoso, members, startStack, waitFor } from '../helpers.js'
import { projectRoot } from '../../gateway/paths.js'

const CHROMIUM = process.env.LGSP_CHROMIUM ?? '/usr/bin/chromium'
const shots = process.env.LGSP_SCREENSHOT_DIR ?? join(projectRoot, 'bench', 'results', 'console')
/** The fixture's personal data (tests/helpers.ts hoso()): none of it may appear on a page. */
const personal = [CITIZEN_ID, 'Nguyễn Thị Bình', '0912345678', 'binh.nguyen@example.vn', 'Trần Văn Cường']

t.test('an operator runs the province from the console', async (t) => {
  // A missing browser fails the test with how to install it; it never skips.
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is not installed at ${CHROMIUM}: \`apt-get install -y chromium\` (tests/tools.sh and .ci/run do it)`)
  mkdirSync(shots, { recursive: true })
  const s = await startStack(t, {
    listen: true,
    // Two attempts, then a dead letter; a breaker that opens soon.
    configExtra: { delivery: { pollIntervalMs: 50, retry: { baseMs: 20, maxMs: 100, maxAttempts: 2 }, breaker: { minimumCalls: 5, openMs: 100, maxOpenMs: 400 } } }
  })
  const profile = mkdtempSync(join(tmpdir(), 'lgsp-chromium-'))
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 1000 },
    locale: 'vi-VN'
  })
  t.teardown(async () => { await browser.close(); rmSync(profile, { recursive: true, force: true }) })
  const page = browser.pages()[0] ?? await browser.newPage()
  const seen: string[] = []
  /** Every page's text is kept for the personal-data check at the end. */
  const shot = async (name: string, p: Page = page): Promise<void> => {
    seen.push(await p.locator('body').innerText())
    await p.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
  }

  // One dossier delivered before the operator looks: the charts have a point.
  const first = hoso(1)
  t.equal((await s.post('onestop', '/v1/dossiers', first)).statusCode, 202)
  await waitFor('the first dossier delivered', async () => (await s.gateway.store.getDossier(first.MaHoSo))?.deliveries.dvcqg?.[0]?.state === 'delivered')

  await page.goto(`${s.gateway.url}/console`)
  await page.fill('input[name=id]', members.operator.id)
  await page.fill('input[name=secret]', members.operator.secret)
  await shot('00-login')
  await page.click('button[type=submit]')
  await page.waitForSelector('section.card[data-destination="dvcqg"][data-status="green"]')
  await page.waitForSelector('section.card[data-destination="dvcqg"] .uplot')
  t.ok(await page.getByText('Tổng quan').first().isVisible(), 'Vietnamese labels by default')
  await shot('01-overview')

  // DVCQG fails: the second dossier dies after two attempts and the destination goes red.
  s.dvcqg.server.setFaults({ mode: 'error' })
  const second = hoso(2)
  t.equal((await s.post('onestop', '/v1/dossiers', second)).statusCode, 202)
  await page.waitForSelector('section.card[data-destination="dvcqg"][data-status="red"]', { timeout: 30_000 })
  await shot('02-overview-dvcqg-failing')

  // The dead letter, opened in full.
  await page.goto(`${s.gateway.url}/console/#/dead?destination=dvcqg`)
  const row = page.locator('tr', { hasText: second.MaHoSo })
  await row.waitFor()
  // Filtered by its code (the server's index), then by another code: it goes, and comes back.
  const code = (await row.locator('[data-testid="dead-code"]').textContent())!.trim()
  t.match(code, /^LGSP_ERR_/)
  await page.selectOption('select[name=code]', 'LGSP_ERR_DVCQG_REJECTED')
  await page.click('form.toolbar button[type=submit]')
  await page.waitForSelector('p.muted:text("Không có thư lỗi nào.")')
  t.equal(await row.count(), 0, 'another code: not listed')
  await page.selectOption('select[name=code]', code)
  await page.click('form.toolbar button[type=submit]')
  await row.waitFor()
  t.ok(page.url().includes(`code=${code}`), 'the filter is in the address (a link an operator can share)')
  await shot('03-dead-letters')
  await row.locator('a', { hasText: /^\d+$/ }).click()
  await page.waitForSelector('[data-testid="upstream-answer"]')
  t.equal(await page.textContent('[data-testid="unit-state"]'), 'dead')
  // Both attempts, as the store kept them: the first retried, the second dead-lettered.
  const attempts = page.locator('[data-testid="attempts"] tbody tr')
  await waitFor('both attempts shown', async () => await attempts.count() === 2)
  t.match(await attempts.nth(0).innerText(), /lỗi, sẽ thử lại/)
  t.match(await attempts.nth(1).innerText(), /lỗi, chuyển thư lỗi/)
  t.ok((await attempts.nth(1).innerText()).includes(code), 'each attempt with its code')
  await shot('04-dead-letter')

  // DVCQG is back; the operator selects the dead letter and replays it.
  s.dvcqg.server.setFaults({ mode: 'none' })
  await page.goto(`${s.gateway.url}/console/#/dead?destination=dvcqg`)
  await row.waitFor()
  await row.locator('input[type=checkbox]').check()
  await page.click('button[data-action="replay"]')
  await page.waitForSelector('.ok-box')

  // Followed from the search box to its trail, where it shows delivered.
  await page.fill('header input[name=q]', second.MaHoSo)
  await page.press('header input[name=q]', 'Enter')
  await page.waitForSelector(`[data-testid="mahoso"]:text("${second.MaHoSo}")`)
  const unitState = page.locator('[data-destination="dvcqg"] [data-testid="unit-state"]').first()
  await waitFor('the replayed dossier shows delivered', async () => {
    if (await unitState.textContent() === 'delivered') return true
    await page.reload()
    await unitState.waitFor()
    return false
  })
  await shot('05-dossier-trail')
  // The replay is in the message log under the operator's id.
  const log = await s.gateway.store.readLog({ fromAt: 0, toAt: Date.now() })
  t.ok(log.some((e) => e.kind === 'console-replay' && e.party === members.operator.id), 'the replay is logged with the operator')

  await page.goto(`${s.gateway.url}/console/#/overview`)
  await page.waitForSelector('section.card[data-destination="dvcqg"][data-status="green"]')

  // 2024-02 is closed (revision 1); a dossier of February arrives late, and reading the figures revises it (revision 2).
  t.equal((await s.post('operator', '/v1/indicators/close', { agency: '000.00.00.H56', period: '2024-02' })).statusCode, 200)
  t.equal((await s.post('onestop', '/v1/dossiers', hoso(3))).statusCode, 202)
  // Reads never write: the GET shows the pending change, closing again publishes revision 2.
  t.match((await s.get('operator', '/v1/indicators?agency=000.00.00.H56&period=2024-02')).json(), { closed: true, revision: 1 })
  t.equal((await s.post('operator', '/v1/indicators/close', { agency: '000.00.00.H56', period: '2024-02' })).statusCode, 200)
  t.match((await s.get('operator', '/v1/indicators?agency=000.00.00.H56&period=2024-02')).json(), { closed: true, revision: 2 })

  // The period's indicators beside both revisions; a figure leads to the dossiers behind it, and on to one of them.
  await page.goto(`${s.gateway.url}/console/#/indicators?period=2024-02`)
  const figure = page.locator('tr[data-agency="000.00.00.H56"] a[data-indicator="onTime:denominator"]')
  await figure.waitFor()
  await page.waitForSelector('tr[data-agency="000.00.00.H56"][data-revision="1"]')
  await page.waitForSelector('tr[data-agency="000.00.00.H56"][data-revision="2"]')
  t.ok(await page.locator('tr[data-revision="2"] .moved').count() > 0, 'what revision 2 changed is marked')
  t.ok(await page.locator('tr.changes a', { hasText: hoso(3).MaHoSo }).count() > 0, 'and the dossier it added is listed')
  await shot('06-indicators')
  await figure.click()
  const drillRow = page.locator('tr', { hasText: first.MaHoSo })
  await drillRow.waitFor()
  t.ok(await page.getByText('trễ hạn').first().isVisible(), 'each dossier says why it counts (late: judged at the end of 2024-02)')
  t.ok(await page.getByText(/trễ hạn \d+ ngày làm việc/).first().isVisible(), 'late by working days (the working calendar)')
  await shot('07-indicator-dossiers')
  await drillRow.locator('a', { hasText: first.MaHoSo }).click()
  await page.waitForSelector(`[data-testid="mahoso"]:text("${first.MaHoSo}")`)

  await page.goto(`${s.gateway.url}/console/#/reconcile`)
  await page.waitForSelector('form.toolbar select[name=agency]')
  // The one-stop's own list of February: one dossier the same, one at another state, one the gateway never got (and one it lacks).
  await page.selectOption('select[name=onestopMember]', members.onestop.id)
  await page.fill('input[name=onestopPeriod]', '2024-02')
  await page.fill('textarea[name=onestopList]', `MaHoSo,TrangThaiHoSo\n${first.MaHoSo},2\n${second.MaHoSo},9\n${hoso(9).MaHoSo},2`)
  await page.click('button[data-action="compare-onestop"]')
  await page.waitForSelector('[data-testid="onestop-summary"]')
  for (const kind of ['stale', 'missing-in-gateway', 'missing-at-onestop']) t.equal(await page.locator(`[data-testid="onestop-panel"] [data-kind="${kind}"]`).count(), 1, `one difference: ${kind}`)
  t.ok(await page.locator('[data-testid="onestop-panel"] tr', { hasText: hoso(3).MaHoSo }).count() === 1, 'the dossier the one-stop lacks')
  await shot('08-reconcile-payments')
  await page.goto(`${s.gateway.url}/console/#/members`)
  await page.waitForSelector('[data-testid="days-left"]')
  await shot('09-members-certificates')

  // English by the toggle.
  await page.click('button.lang')
  await page.waitForSelector('nav a:text("Members & certificates")')
  await page.goto(`${s.gateway.url}/console/#/dossier/${encodeURIComponent(first.MaHoSo)}`)
  await page.waitForSelector('h3:text("Deliveries per destination")')
  await shot('10-dossier-trail-en')

  for (const text of seen) for (const value of personal) t.notOk(text.includes(value), `no page shows ${value}`)
  t.ok(seen.some((text) => text.includes('[redacted]')), 'masked values are shown as such')
})
