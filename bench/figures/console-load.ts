// Console load: a logged-in admin opens /console/ in Debian's chromium (a fresh browser context
// each time: nothing cached) on a gateway tracking 50 calls in progress; measured in the page, from
// the navigation's start to the `first-live-data` mark that public/console.js sets when the first
// list of calls from the live feed (SSE) is on the page. Median of several loads.
import { existsSync } from 'node:fs'
import { request } from 'undici'
import { chromium } from 'playwright-core'
import type { Figure, FigureResult } from '../figure.js'
import { BENCH_KEY, startStack } from '../stack.js'
import { median, round } from '../stats.js'

/** Issue 17: the console "must stay light and load in under 1 s on a 2-core machine". */
const TARGET_MS = 1000
const CALLS = 50
const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']

/** Logs in as the page would and returns the session cookie's value. */
async function sessionCookie (url: string): Promise<string> {
  const res = await request(`${url}/console/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: BENCH_KEY }) })
  await res.body.text()
  const cookie = /gw_console=([^;]*)/.exec(String(res.headers['set-cookie']))
  if (res.statusCode !== 200 || cookie === null) throw new Error(`console login answered ${res.statusCode}`)
  return cookie[1] ?? ''
}

export const consoleLoad: Figure = {
  id: 'console-load',
  title: `Console load (open /console/ → first live data, ${CALLS} calls in progress)`,
  async run (opts): Promise<FigureResult> {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`)
    const stack = await startStack({ name: 'console-load' })
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true })
    try {
      await stack.startLongCalls(CALLS)
      const url = stack.gateway.info.url
      const cookie = await sessionCookie(url)
      const runs: Array<{ firstLiveDataMs: number, domContentLoadedMs: number, wallMs: number, callsShown: number }> = []
      for (let i = 0; i < (opts.quick ? 3 : 9); i++) {
        const context = await browser.newContext()
        await context.addCookies([{ name: 'gw_console', value: cookie, url: `${url}/console/` }])
        const page = await context.newPage()
        const t0 = performance.now()
        await page.goto(`${url}/console/`)
        await page.waitForFunction(() => (globalThis as any).performance.getEntriesByName('first-live-data').length > 0, undefined, { timeout: 30_000 })
        const wallMs = performance.now() - t0
        const timing = await page.evaluate(() => {
          const perf = (globalThis as any).performance
          const doc = (globalThis as any).document
          return {
            firstLiveData: perf.getEntriesByName('first-live-data')[0].startTime as number,
            domContentLoaded: perf.getEntriesByType('navigation')[0].domContentLoadedEventEnd as number,
            rows: doc.querySelectorAll('#calls tbody tr').length as number
          }
        })
        runs.push({ firstLiveDataMs: round(timing.firstLiveData, 1), domContentLoadedMs: round(timing.domContentLoaded, 1), wallMs: round(wallMs, 1), callsShown: timing.rows })
        await context.close()
      }
      // The first load also starts the browser's own caches of fonts etc.: it counts like the others.
      const ms = median(runs.map((r) => r.firstLiveDataMs))
      const shown = Math.min(...runs.map((r) => r.callsShown))
      return {
        id: this.id,
        title: this.title,
        value: round(ms / 1000, 3),
        unit: 's',
        summary: `${round(ms)} ms median of ${runs.length} loads to the first live data (fastest ${round(Math.min(...runs.map((r) => r.firstLiveDataMs)))} ms, slowest ${round(Math.max(...runs.map((r) => r.firstLiveDataMs)))} ms; page ready ${round(median(runs.map((r) => r.domContentLoadedMs)))} ms; ${shown} calls shown)`,
        ceiling: null,
        ratio: null,
        target: { text: `≤ ${TARGET_MS / 1000} s`, met: ms <= TARGET_MS && shown >= CALLS },
        details: { callsInProgress: CALLS, runs },
        notes: [
          'Measured in the page (Navigation Timing): from the start of the navigation to the `first-live-data` performance mark, set when the first list of calls from /console/events is rendered. Each load uses a fresh browser context (no cache) with a session cookie from POST /console/api/login; `wallMs` in results.json adds the benchmark\'s own Playwright round trips.',
          'The browser, the gateway and the simulator share the machine\'s cores.'
        ]
      }
    } finally {
      await browser.close()
      await stack.stop()
    }
  }
}
