// Single-flight: 1,000 concurrent cold `ext.info.get` requests for one extension (each on its own
// kept-alive connection, opened beforehand) must cost the simulator exactly one XAPI request.
// Two bursts: as the simulator answers, and with 200 ms added XAPI latency so that every request
// surely arrives while the one fetch is in flight.
import { Agent, request } from 'undici'
import type { Figure, FigureResult } from '../figure.js'
import { KEY_HEADER, startStack, type Stack } from '../stack.js'
import { round } from '../stats.js'

const CONCURRENT = 1000

interface Burst { latencyMs: number, extension: string, xapiUserRequests: number, answered: number, distinctBodies: number, wallMs: number }

async function burst (stack: Stack, dispatcher: Agent, extension: string, latencyMs: number): Promise<Burst> {
  await stack.sim.call('faults', { latencyMs })
  await stack.gateway.call('clearDirectory')
  await stack.sim.call('clearRequestLog')
  const url = `${stack.gateway.info.url}/ext.info.get?num=${extension}`
  const started = performance.now()
  const answers = await Promise.all(Array.from({ length: CONCURRENT }, async () => {
    const res = await request(url, { headers: KEY_HEADER, dispatcher })
    return { status: res.statusCode, body: await res.body.text() }
  }))
  const wallMs = round(performance.now() - started, 1)
  await stack.sim.call('faults', {})
  const counted = await stack.sim.call<{ count: number }>('countRequests', { pattern: '^/xapi/v1/Users' })
  return {
    latencyMs,
    extension,
    xapiUserRequests: counted.count,
    answered: answers.filter((a) => a.status === 200).length,
    distinctBodies: new Set(answers.map((a) => a.body)).size,
    wallMs
  }
}

export const singleFlight: Figure = {
  id: 'single-flight',
  title: 'Single-flight (1,000 concurrent cold requests, one extension)',
  async run (): Promise<FigureResult> {
    const stack = await startStack({ name: 'single-flight' })
    const dispatcher = new Agent({ connections: CONCURRENT, pipelining: 1 })
    try {
      // Open the connections first, so the burst is requests, not TCP handshakes.
      await Promise.all(Array.from({ length: CONCURRENT }, async () => {
        const res = await request(`${stack.gateway.info.url}/healthz`, { dispatcher })
        await res.body.text()
      }))
      const bursts = [await burst(stack, dispatcher, '102', 0), await burst(stack, dispatcher, '103', 200)]
      const worst = Math.max(...bursts.map((b) => b.xapiUserRequests))
      const allAnswered = bursts.every((b) => b.answered === CONCURRENT && b.distinctBodies === 1)
      return {
        id: this.id,
        title: this.title,
        value: worst,
        unit: 'XAPI requests',
        summary: bursts.map((b) => `${b.xapiUserRequests} XAPI request(s) for ${CONCURRENT} requests${b.latencyMs > 0 ? ` with +${b.latencyMs} ms XAPI latency` : ''} (${b.answered} answered 200, ${b.wallMs} ms)`).join('; '),
        ceiling: null,
        comparison: 'XAPI Users requests counted at the simulator (its request log)',
        ratio: null,
        target: { text: 'exactly 1', met: bursts.every((b) => b.xapiUserRequests === 1) && allAnswered },
        details: { concurrent: CONCURRENT, bursts },
        notes: allAnswered ? [] : ['Not every request was answered 200 with the same body.']
      }
    } finally {
      await dispatcher.close()
      await stack.stop()
    }
  }
}
