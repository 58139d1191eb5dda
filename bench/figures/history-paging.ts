// The simulator's XAPI CallHistoryView over 100,002 rows (33,334 synthetic calls): how long the
// slowest filtered page of 1,000 rows takes, deep into the history. CRM exports and the gateway's
// reports page through it like this; the test suite checks the answers, this figure their speed.
import type { Figure, FigureResult } from '../figure.js'
import { percentile, round } from '../stats.js'
import { createSimulator } from '../../src/sim/simulator.js'
import { injectCallRecords } from '../../src/sim/xapi/record-source.js'
import { syntheticCallRecords } from '../../src/sim/xapi/synthetic-records.js'

const TARGET_MS = 1500

async function fetchJson (url: string, token: string): Promise<{ value?: unknown[] }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`)
  return await res.json() as { value?: unknown[] }
}

export const historyPaging: Figure = {
  id: 'history-paging',
  title: 'Simulator XAPI: a filtered 1,000-row page of CallHistoryView at 100,000 rows',
  async run (opts): Promise<FigureResult> {
    const sim = await createSimulator()
    try {
      injectCallRecords(sim.ctx, syntheticCallRecords(33_334, { from: new Date('2025-02-01T00:00:00Z'), spacingMs: 30_000 }))
      const tokenRes = await fetch(`${sim.url}/connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=599&client_secret=sim-secret'
      })
      const token = ((await tokenRes.json()) as { access_token: string }).access_token
      const filter = encodeURIComponent('SegmentStartTime ge 2025-02-01T00:00:00Z')
      const times: number[] = []
      const rounds = opts.quick ? 1 : 3
      for (let r = 0; r < rounds; r++) {
        for (const skip of [0, 25_000, 50_000, 99_000]) {
          const t0 = performance.now()
          const page = await fetchJson(`${sim.url}/xapi/v1/CallHistoryView?$top=1000&$skip=${skip}&$filter=${filter}`, token)
          times.push(performance.now() - t0)
          if (page.value?.length !== 1000) throw new Error(`page at ${skip} had ${page.value?.length ?? 0} rows`)
        }
      }
      const slowest = round(Math.max(...times), 1)
      opts.log(`  ${times.length} pages, slowest ${slowest} ms, p50 ${round(percentile(times, 50), 1)} ms`)
      return {
        id: this.id,
        title: this.title,
        value: slowest,
        unit: 'ms (slowest page)',
        summary: `${times.length} pages of 1,000 rows at skip 0–99,000; p50 ${round(percentile(times, 50), 1)} ms, slowest ${slowest} ms`,
        ceiling: null,
        ratio: null,
        target: { text: `≤ ${TARGET_MS} ms`, met: slowest <= TARGET_MS },
        details: { timesMs: times.map((x) => round(x, 1)) },
        notes: ['Runs in the benchmark process against an in-process simulator; each page filtered on SegmentStartTime, as the gateway\'s reports ask.']
      }
    } finally {
      await sim.close()
    }
  }
}
