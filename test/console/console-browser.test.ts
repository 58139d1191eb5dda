// The console in a real browser: Debian's chromium driven by playwright-core. Log in (a wrong key,
// a read key, a control key), a call placed in the simulator appears without a reload and leaves
// when it ends, the webhook panel sends a test event, the key never reaches a URL or the page's
// cookies. CONSOLE_SCREENSHOT=docs/console.webp writes the README's screenshot during the transfers.
import { existsSync, writeFileSync } from 'node:fs'
import t from 'tap'
import { chromium, type Browser, type Page } from 'playwright-core'
import { CONTROL_KEY, placeCall, READ_KEY, startConsoleGateway } from './console-harness.js'
import type { RecordingService } from '../../src/recordings/recording-service.js'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']

// Skipped (an allowed skip, scripts/skip-check.mjs) only where Chromium cannot be installed.
const skip = existsSync(CHROMIUM) ? false : `Chromium is not installed at ${CHROMIUM}: apt-get install chromium (.ci/run does) to run the browser tests`

/** Waits until an element matching `selector` shows text (innerText: cells apart) matching `re`. */
async function waitForText (page: Page, selector: string, re: RegExp): Promise<void> {
  // Runs in the page (this project's TypeScript has no DOM types; the page's CSP forbids string code).
  await page.waitForFunction(({ sel, source }) => {
    const doc = (globalThis as any).document
    return [...doc.querySelectorAll(sel)].some((e: any) => new RegExp(source).test(e.innerText))
  }, { sel: selector, source: re.source })
}

/**
 * The README's screenshot: the first screen (calls, extensions, queues) as WebP, encoded by Chromium
 * itself (a canvas in a blank page): about 50 KB where the full page as PNG was 223 KB.
 */
async function saveScreenshot (page: Page, file: string): Promise<void> {
  const png = await page.screenshot()
  const blank = await page.context().newPage()
  const dataUrl = await blank.evaluate(async (src) => {
    const g = globalThis as any
    const img = new g.Image()
    img.src = src
    await img.decode()
    const canvas = g.document.createElement('canvas')
    canvas.width = img.width
    canvas.height = img.height
    canvas.getContext('2d').drawImage(img, 0, 0)
    return canvas.toDataURL('image/webp', 0.6) as string
  }, `data:image/png;base64,${png.toString('base64')}`)
  await blank.close()
  writeFileSync(file, Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64'))
}

t.test('the console in chromium', { timeout: 120_000, skip }, async (t) => {
  const c = await startConsoleGateway(t, { RECORDINGS_SOURCE: 'xapi' })
  // One converted recording in the index: the recordings panel lists it with a player.
  const index = (c.gw.services.recordings as RecordingService).index
  const leg = { callid: 901, chid: '261121083716_901', legacyId: '261121083716_901-1', dn: '101', participantIds: [1], startedAt: 1000, endedAt: 1500 }
  await index.addLeg(leg)
  const [recording] = await index.settleLeg(`${leg.legacyId}/101`, [{ sourceRef: 'test:1', recordedAt: Date.now(), wavPath: null, xapiId: null }])
  await index.markConverted(recording.id, 1000)
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
  const player = page.locator('#recordings li[data-file="261121083716_901-1-1.mp3"] audio')
  await player.waitFor({ state: 'attached' })
  t.match(await player.getAttribute('src'), /^\/recordings\/[A-Za-z0-9_-]{24}\/261121083716_901-1-1\.mp3$/, 'the latest recording with a player')
  t.equal(await page.evaluate('document.cookie'), '', 'the session cookie is HttpOnly')

  // A call placed in the simulator appears without a reload, and leaves when it ends.
  await page.evaluate('window.marker = 1')
  // Talking until the page has been looked at, then hung up (not a fixed talk time to outwait or to race).
  const first = await placeCall(c.gw, 600_000)
  const row = page.locator('#calls tbody tr')
  await row.first().waitFor()
  t.match(await row.first().innerText(), /\+15557654321/, 'the caller is shown')
  await page.locator('#calls tbody tr', { hasText: 'talking' }).waitFor()
  t.equal(await page.locator('#calls-count').innerText(), '1')
  await page.locator('#extensions tr[data-ext="101"]', { hasText: 'talking' }).waitFor()
  t.match(await page.locator('#extensions tr[data-ext="101"]').innerText(), /Available/, 'the extension is talking, with its profile')
  t.match(await page.locator('#queues tr[data-queue="800"]').innerText(), /Sales\s+0\s+3 of 3\s+101 talking, 102 idle, 103 idle/, 'the queue: nobody waiting, its agents logged in with their states')
  t.ok(c.gw.simulator?.ctx.engine.dropCall(first), 'the call is hung up')
  await page.locator('#calls-empty').waitFor({ state: 'visible' })
  await page.locator('#extensions tr[data-ext="101"]', { hasText: 'idle' }).waitFor()
  t.equal(await row.count(), 0, 'the call left the page when it ended')
  t.equal(await page.evaluate('window.marker'), 1, 'without a reload')

  // Transfers: a caller waiting in the queue, on hold while 101 consults 103 (attended), and
  // transferring while 104 rings for 102's blind transfer.
  const transfers = [
    await placeCall(c.gw, 1500, { from: '+15550000001', ringMs: 2500, transfer: { kind: 'attended', to: '103', afterMs: 500, answer: true } }),
    await placeCall(c.gw, 1500, { from: '+15550000002', answer: '102', ringMs: 2500, transfer: { kind: 'blind', to: '104', afterMs: 500, answer: true } })
  ]
  await waitForText(page, '#queues tr[data-queue="800"]', /Sales\s+2\s+0:0\d/)
  t.pass('the queue shows two callers waiting and the longest wait')
  await page.locator('#calls tbody tr', { hasText: 'on hold (101 consults 103)' }).waitFor()
  t.pass('an attended transfer\'s consultation: the caller is on hold')
  await page.locator('#calls tbody tr', { hasText: 'transferring (102 → 104)' }).waitFor()
  t.pass('a blind transfer: transferring while the target rings')
  const screenshot = process.env.CONSOLE_SCREENSHOT
  if (screenshot !== undefined && screenshot !== '') await saveScreenshot(page, screenshot)
  await waitForText(page, '#calls tbody tr', /\+15550000001\s+103\s+talking/)
  t.pass('the attended transfer done: 103 talks to the caller')
  for (const callid of transfers) c.gw.simulator?.ctx.engine.dropCall(callid)
  await page.locator('#calls-empty').waitFor({ state: 'visible' })

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
  // The filter: only delivered ones, then only failed ones (none).
  await page.selectOption('#filter-status', 'done')
  await page.click('#delivery-filter button')
  await waitForText(page, '#deliveries tbody', /\bdone\b/)
  const statuses = await page.locator('#deliveries tbody td.status').allTextContents()
  t.ok(statuses.length > 0 && statuses.every((x) => x === 'done'), `filtered by status: ${statuses.join(', ')}`)
  await page.selectOption('#filter-status', 'failed')
  await page.click('#delivery-filter button')
  await page.locator('#deliveries tbody tr').first().waitFor({ state: 'detached' })
  t.equal(await page.locator('#deliveries tbody tr').count(), 0, 'no failed deliveries')

  t.same(pageErrors, [], 'no script errors')
  for (const key of [READ_KEY, CONTROL_KEY]) t.notOk(urls.some((u) => u.includes(key)), 'the key is in no URL the page requested')
  t.notMatch(c.logs(), READ_KEY)
  t.notMatch(c.logs(), CONTROL_KEY)
})
