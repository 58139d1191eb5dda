// The console in a real browser: Debian's chromium driven by playwright-core. Log in (a wrong key,
// a read key, a control key), a call placed in the simulator appears without a reload and leaves
// when it ends, the webhook panel sends a test event, the key never reaches a URL or the page's
// cookies. CONSOLE_SCREENSHOT=docs/console.png writes the README's screenshot while the call is live.
import { existsSync } from 'node:fs'
import t from 'tap'
import { chromium, type Browser } from 'playwright-core'
import { CONTROL_KEY, placeCall, READ_KEY, startConsoleGateway } from './console-harness.js'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']

// Skipped (an allowed skip, scripts/skip-check.mjs) only where Chromium cannot be installed.
const skip = existsSync(CHROMIUM) ? false : `Chromium is not installed at ${CHROMIUM}: apt-get install chromium (.ci/run does) to run the browser tests`

t.test('the console in chromium', { timeout: 120_000, skip }, async (t) => {
  const c = await startConsoleGateway(t)
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true })
  t.teardown(async () => { await browser.close() })
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  page.setDefaultTimeout(30_000)
  const urls: string[] = []
  page.on('request', (r) => { urls.push(r.url()) })
  const pageErrors: string[] = []
  page.on('pageerror', (e) => { pageErrors.push(e.message) })

  await page.goto(`${c.gw.url}/`)
  t.equal(new URL(page.url()).pathname, '/console/', 'GET / leads to the console')
  await page.locator('#login-key').waitFor()

  await page.fill('#login-key', 'not-a-key-00000000000')
  await page.click('#login-form button')
  await page.locator('#login-error', { hasText: "log in with one of the gateway's keys" }).waitFor()
  t.pass('a wrong key is refused with a message')

  // A read key sees everything and may not act.
  await page.fill('#login-key', READ_KEY)
  await page.click('#login-form button')
  await page.locator('#who', { hasText: 'key#1 (read)' }).waitFor()
  await page.locator('#live', { hasText: 'live' }).waitFor()
  await page.locator('#targets tbody tr[data-target="webhook1"]').waitFor()
  t.ok(await page.locator('#targets button[data-target="webhook1"]').isDisabled(), 'a read session cannot send test events')
  const columns = await page.locator('#targets thead th').allTextContents()
  const cells = await page.locator('#targets tbody tr[data-target="webhook1"] td').allTextContents()
  t.equal(cells[columns.indexOf('Retrying')], '0', 'the target shows its retrying deliveries next to the waiting ones')
  await page.locator('#system dt', { hasText: 'websocket' }).waitFor()
  t.equal(await page.evaluate('document.cookie'), '', 'the session cookie is HttpOnly')

  // A call placed in the simulator appears without a reload, and leaves when it ends.
  await page.evaluate('window.marker = 1')
  await placeCall(c.gw, 2500)
  const row = page.locator('#calls tbody tr')
  await row.first().waitFor()
  t.match(await row.first().innerText(), /\+15557654321/, 'the caller is shown')
  await page.locator('#calls tbody tr', { hasText: 'talking' }).waitFor()
  t.equal(await page.locator('#calls-count').innerText(), '1')
  await page.locator('#extensions tr[data-ext="101"]', { hasText: 'talking' }).waitFor()
  t.match(await page.locator('#extensions tr[data-ext="101"]').innerText(), /Available/, 'the extension is talking, with its profile')
  t.match(await page.locator('#queues tr[data-queue="800"]').innerText(), /Sales\s+3\s+0/, 'the queue with its agents logged in and out')
  const screenshot = process.env.CONSOLE_SCREENSHOT
  if (screenshot !== undefined && screenshot !== '') {
    await page.click('#delivery-filter button')
    await page.locator('#deliveries tbody tr').first().waitFor()
    await page.screenshot({ path: screenshot, fullPage: true })
  }
  await page.locator('#calls-empty').waitFor({ state: 'visible' })
  await page.locator('#extensions tr[data-ext="101"]', { hasText: 'idle' }).waitFor()
  t.equal(await row.count(), 0, 'the call left the page when it ended')
  t.equal(await page.evaluate('window.marker'), 1, 'without a reload')

  // Log out; a control key may act.
  await page.click('#logout')
  await page.locator('#login-key').waitFor()
  await page.fill('#login-key', CONTROL_KEY)
  await page.click('#login-form button')
  await page.locator('#who', { hasText: 'key#2 (control)' }).waitFor()
  const test = page.locator('#targets button[data-target="webhook1"]')
  await test.waitFor()
  t.notOk(await test.isDisabled())
  await test.click()
  await page.locator('#test-result', { hasText: 'HTTP 200' }).waitFor()
  t.ok(c.receiver.all.some((r) => r.body.includes('"event":"test"')), 'the receiver got the test event')
  await page.locator('#deliveries tbody tr').first().waitFor()
  t.ok(await page.locator('#deliveries tbody tr').count() > 0, 'the call\'s deliveries are listed')

  t.same(pageErrors, [], 'no script errors')
  for (const key of [READ_KEY, CONTROL_KEY]) t.notOk(urls.some((u) => u.includes(key)), 'the key is in no URL the page requested')
  t.notMatch(c.logs(), READ_KEY)
  t.notMatch(c.logs(), CONTROL_KEY)
})
