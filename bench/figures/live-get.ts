// Live legacy GET: `pbx.ac.get` with 200 calls in progress (started at the simulator, tracked by the
// gateway's live call model) under 50 connections; same ceiling as the cached GET. For reference it
// also loads the bare server answering a constant body as large as the real answer.
import { request } from 'undici'
import type { Figure, FigureResult } from '../figure.js'
import { compareWithCeiling, load } from '../load.js'
import { startChild, type BenchChild } from '../processes.js'
import type { BareInfo } from '../child/bare-process.js'
import { KEY_HEADER, startStack } from '../stack.js'
import { cpuNote, loadSettings } from './http-load.js'

const TARGET = 0.5
const CALLS = 200

export const liveGet: Figure = {
  id: 'live-get',
  title: `Live legacy GET (pbx.ac.get, ${CALLS} calls in progress)`,
  async run (opts): Promise<FigureResult> {
    const stack = await startStack({ name: 'live-get' })
    let bare: BenchChild<BareInfo> | null = null
    try {
      bare = await startChild<BareInfo>('bare-process', 'live-get-bare')
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
      const cmp = await compareWithCeiling({ url, headers: KEY_HEADER, cpu: gatewayCpu }, { url: `${bare.info.url}/const`, cpu: bareCpu }, settings)
      const sized = await load({ url: `${bare.info.url}/sized` }, { connections: settings.connections, seconds: settings.seconds }, bareCpu)
      const bad = cmp.measured.reduce((n, r) => n + r.errors + r.non2xx, 0)
      const p99 = Math.max(...cmp.measured.map((r) => r.p99Ms))
      const sizedRatio = Math.round(cmp.rps / sized.rps * 1000) / 1000
      return {
        id: this.id,
        title: this.title,
        value: cmp.rps,
        unit: 'req/s',
        summary: `${cmp.rps} req/s, p99 ${p99} ms, ${calls} calls, ${Math.round(body.length / 1024)} KiB per answer (ceiling ${cmp.ceilingRps} req/s)`,
        ceiling: { what: 'bare Fastify route returning constant JSON, own process, logger off', value: cmp.ceilingRps, unit: 'req/s' },
        ratio: cmp.ratio,
        target: { text: `≥ ${TARGET} of ceiling`, met: cmp.ratio >= TARGET && bad === 0 },
        details: {
          ...settings,
          callsInProgress: calls,
          answerBytes: body.length,
          runs: cmp.measured,
          ceilingRuns: cmp.ceiling,
          sameSizeConstantBody: { ...sized, ratio: sizedRatio },
          failedRequests: bad
        },
        notes: [
          `For reference: the bare server answering a constant body of the same ${body.length} bytes does ${sized.rps} req/s (${sized.serverCpuUsPerRequest ?? '?'} µs CPU per request); the gateway reaches ${sizedRatio} of that.`,
          ...cpuNote(cmp),
          ...(cmp.ratio < TARGET
            ? [`Why, as far as known: the answer for ${calls} calls is ${Math.round(body.length / 1024)} KiB, already serialized only once per change of the call list; writing a body of that size is the cost: even the bare server answering a constant body of the same size reaches only ${Math.round(sized.rps / cmp.ceilingRps * 100) / 100} of the small-JSON ceiling, so this target cannot be met against a constant small JSON on this machine; the same-size ratio above is the fair comparison.`]
            : []),
          ...(bad > 0 ? [`${bad} requests failed or answered non-2xx.`] : [])
        ]
      }
    } finally {
      await bare?.stop()
      await stack.stop()
    }
  }
}
