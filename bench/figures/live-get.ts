// Live legacy GET: `pbx.ac.get` with 200 calls in progress (started at the simulator, tracked by the
// gateway's live call model) under 50 connections, against a bare Fastify route answering a
// constant body of the same bytes to the same request (path, key header) in a process of its own
// (the ceiling): the answer is large, so writing it is most of the cost, and only a body of the same
// size is a fair comparison.
import { request } from 'undici'
import type { Figure, FigureResult } from '../figure.js'
import { compareWithCeiling } from '../load.js'
import { startChild, type BenchChild } from '../processes.js'
import type { BareInfo } from '../child/bare-process.js'
import { KEY_HEADER, profiledArgs, startStack } from '../stack.js'
import { cpuNote, loadSettings } from './http-load.js'

/** Issue 16 (was ≥ 0.5 of a small constant JSON, which a 60 KiB answer cannot reach on 2 cores). */
const TARGET = 0.8
const CALLS = 200

export const liveGet: Figure = {
  id: 'live-get',
  title: `Live legacy GET (pbx.ac.get, ${CALLS} calls in progress)`,
  async run (opts): Promise<FigureResult> {
    const stack = await startStack({ name: 'live-get' })
    let bare: BenchChild<BareInfo> | null = null
    try {
      bare = await startChild<BareInfo>('bare-process', 'live-get-bare', { execArgv: profiledArgs('live-get-bare') })
      await stack.startLongCalls(CALLS)
      const url = `${stack.gateway.info.url}/pbx.ac.get`
      const first = await request(url, { headers: KEY_HEADER })
      const body = await first.body.text()
      if (first.statusCode !== 200) throw new Error(`pbx.ac.get answered ${first.statusCode}: ${body.slice(0, 300)}`)
      const calls = await stack.calls()
      await bare.call('setBody', { body })
      const settings = loadSettings(opts)
      opts.log(`  ${calls} calls in progress, answer ${body.length} bytes; ${settings.rounds} × ${settings.seconds} s each`)
      const gatewayCpu = async (): Promise<number> => await stack.gateway.call<number>('cpuMicros')
      const bareChild = bare
      const bareCpu = async (): Promise<number> => await bareChild.call<number>('cpuMicros')
      const cmp = await compareWithCeiling({ url, headers: KEY_HEADER, cpu: gatewayCpu }, { url: `${bare.info.url}/pbx.ac.get`, headers: KEY_HEADER, cpu: bareCpu }, settings)
      const bad = cmp.measured.reduce((n, r) => n + r.errors + r.non2xx, 0)
      const p99 = Math.max(...cmp.measured.map((r) => r.p99Ms))
      return {
        id: this.id,
        title: this.title,
        value: cmp.rps,
        unit: 'req/s',
        summary: `${cmp.rps} req/s, p99 ${p99} ms, ${calls} calls, ${Math.round(body.length / 1024)} KiB per answer (ceiling ${cmp.ceilingRps} req/s)`,
        ceiling: { what: `bare Fastify route returning a constant body of the same ${body.length} bytes, own process, logger off`, value: cmp.ceilingRps, unit: 'req/s' },
        ratio: cmp.ratio,
        target: { text: `≥ ${TARGET} of ceiling`, met: cmp.ratio >= TARGET && bad === 0 },
        details: { ...settings, callsInProgress: calls, answerBytes: body.length, runs: cmp.measured, ceilingRuns: cmp.ceiling, failedRequests: bad },
        notes: [
          'The gateway serializes the answer once per change of the call list and keeps it as UTF-8 bytes; the bare route sends the same body as a string.',
          ...cpuNote(cmp),
          ...(cmp.ratio < TARGET ? ['Why, as far as known: the per-request work of the cached GET (key check, per-key limit, metrics, security headers) on top of writing the same bytes.'] : []),
          ...(bad > 0 ? [`${bad} requests failed or answered non-2xx.`] : [])
        ]
      }
    } finally {
      await bare?.stop()
      await stack.stop()
    }
  }
}
