// The simulator under random traffic (issue 3): 30 s at 20 new calls/s with a Call Control client
// connected (the gateway's own client, fetching every participant), then: every call ended, no
// participant left, no refused script, and the heap back near its baseline once the calls are over
// (the engine keeps ended calls' records by design, for XAPI history: their cost is reported per call).
import v8 from 'node:v8'
import vm from 'node:vm'
import type { Figure, FigureResult } from '../figure.js'
import { round, sleep, waitFor } from '../stats.js'
import { createSimulator } from '../../src/sim/simulator.js'
import { createPbxClients } from '../../src/pbx/pbx-clients.js'

const SLACK_MB = 16

function gc (): void {
  v8.setFlagsFromString('--expose-gc')
  ;(vm.runInNewContext('gc') as () => void)()
}

function heapMb (): number {
  gc()
  return round(process.memoryUsage().heapUsed / 1_048_576, 1)
}

export const simTraffic: Figure = {
  id: 'sim-traffic',
  title: 'Simulator traffic (20 new calls/s, random mix of every call path)',
  async run (opts): Promise<FigureResult> {
    const seconds = opts.quick ? 10 : 30
    const sim = await createSimulator()
    const clients = createPbxClients({ pbx: { url: sim.url, clientId: '599', clientSecret: 'sim-secret', timeoutMs: 10_000, timezone: 'UTC' } })
    let changes = 0
    clients.callControl.onChange(() => { changes++ })
    try {
      clients.callControl.start()
      await clients.callControl.ready()
      const baseline = heapMb()
      const res = await fetch(`${sim.url}/_sim/traffic`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ callsPerSecond: 20, seconds, seed: 7, maxRingMs: 3000, maxTalkMs: 8000, recordShare: 0 })
      })
      if (res.status !== 202) throw new Error(`/_sim/traffic answered ${res.status}`)
      let peakCalls = 0
      const started = Date.now()
      while (Date.now() - started < seconds * 1000) {
        peakCalls = Math.max(peakCalls, sim.ctx.engine.activeCalls())
        await sleep(250)
      }
      await waitFor('every simulated call to end', () => sim.ctx.engine.activeCalls() === 0, 60_000, 200)
      await sleep(500)
      const status = await (await fetch(`${sim.url}/_sim/traffic`)).json() as { started: number, failed: number, lastError: string | null }
      const leftParticipants = sim.ctx.engine.participants().length
      const end = heapMb()
      const growth = round(end - baseline, 1)
      const met = status.failed === 0 && leftParticipants === 0 && growth <= SLACK_MB
      opts.log(`  ${status.started} calls, ${status.failed} refused, peak ${peakCalls} concurrent, ${changes} participant changes seen by the client; heap ${baseline} → ${end} MB`)
      return {
        id: this.id,
        title: this.title,
        value: growth,
        unit: 'MB heap growth',
        summary: `${status.started} calls in ${seconds} s (peak ${peakCalls} at once), ${status.failed} refused, ${leftParticipants} participants left; heap ${baseline} → ${end} MB after GC (${round(growth * 1_048_576 / Math.max(1, status.started))} bytes per retained call record)`,
        ceiling: null,
        comparison: 'heap after GC before the traffic and after every call ended',
        ratio: null,
        target: { text: `no refused call, no leftover participant, heap growth ≤ ${SLACK_MB} MB`, met },
        details: { seconds, started: status.started, failed: status.failed, lastError: status.lastError, peakCalls, changes, leftParticipants, baselineMb: baseline, endMb: end },
        notes: ['Runs in the benchmark process: the simulator with the gateway\'s Call Control client connected, fetching every upserted participant. The engine keeps the records of ended calls (up to 50,000) for XAPI history and reports; that retained memory is the growth reported.']
      }
    } finally {
      await clients.close()
      await sim.close()
    }
  }
}
