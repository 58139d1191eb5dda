// What the benchmark's simulator process and its parent share (a module without side effects):
// the child's ready message, the direct-read API client and the long calls it starts in bulk.
import type { CallScript } from '../../src/sim/engine/call-script.js'

export interface SimInfo { url: string, pid: number }

/** The API client the benchmark uses for direct XAPI reads (the gateway keeps client 599's token). */
export const DIRECT_CLIENT = { clientId: '598', secret: 'bench-direct-secret' } as const

const AGENTS = ['101', '102', '103']

/** The n-th of a rotation of answered call paths: inbound queue, inbound direct, outbound, internal. */
export function longCallScript (n: number, talkMs: number): CallScript {
  const caller = `+1555${String(2_000_000 + n).slice(-7)}`
  switch (n % 4) {
    case 0: return { from: caller, to: '+15550101', answer: AGENTS[n % 3], ringMs: 300, talkMs }
    case 1: return { from: caller, to: '+15550102', answer: '102', ringMs: 300, talkMs }
    case 2: return { from: String(104 + (n % 8)), to: caller, answer: 'remote', ringMs: 300, talkMs }
    default: return { from: String(104 + (n % 8)), to: '100', answer: '100', ringMs: 300, talkMs }
  }
}
