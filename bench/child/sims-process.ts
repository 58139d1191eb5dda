// Many 3CX V20 simulators in one process for the tenants-sizing figure: one per tenant, each on
// its own port (BENCH_SIMS of them), as test/tenants starts one simulator per tenant. Commands: close.
import { createSimulator, type Simulator } from '../../src/sim/simulator.js'
import { serveIpc } from './ipc-server.js'

export interface SimsInfo { urls: string[], pid: number }

const count = Number(process.env.BENCH_SIMS ?? '1')
const sims: Simulator[] = []
for (let i = 0; i < count; i++) sims.push(await createSimulator({ port: 0, host: '127.0.0.1', seed: i + 1 }))

serveIpc({
  close: async () => {
    await Promise.all(sims.map(async (s) => { await s.close() }))
    setTimeout(() => process.exit(0), 20)
  }
}, { urls: sims.map((s) => s.url), pid: process.pid } satisfies SimsInfo)
