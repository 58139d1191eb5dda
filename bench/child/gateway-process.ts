// The gateway in its own process for the benchmark, configured from the environment exactly as
// `3cx-gateway serve` is (PBX_URL=<simulator>, GATEWAY_KEYS, RATE_LIMIT_PER_MINUTE, …). Commands:
// empty the directory cache, statistics (calls in progress, memory), fill a 100,000-entry
// directory cache (memory figure), close. With DATABASE_URL it is a replica: a standby (another
// process holds the PBX's stream) is ready without a Call Control link of its own.
import { loadConfig } from '../../src/config.js'
import { startGateway } from '../../src/server.js'
import type { DirectoryCache } from '../../src/directory/directory-cache.js'
import { filledDirectory } from './directory-fill.js'
import { memoryMb, serveIpc, settledMemoryMb } from './ipc-server.js'

export interface GatewayInfo { url: string, pid: number }

const gw = await startGateway(loadConfig(process.env), { shutdownTimeoutMs: 5000 })
if (gw.services.stream().role !== 'standby') await gw.services.pbx.callControl.ready()
const kept: DirectoryCache[] = []

serveIpc({
  clearDirectory: () => { gw.services.directory.clear() },
  stats: () => ({ calls: gw.services.calls.size(), directory: gw.services.directory.stats(), delivery: gw.services.delivery.stats(), stream: gw.services.stream() }),
  memory: () => memoryMb(),
  settledMemory: async ({ settleMs }: { settleMs: number }) => await settledMemoryMb(settleMs),
  fillDirectory: async ({ count }: { count: number }) => {
    const started = performance.now()
    const cache = await filledDirectory(gw.services.pbx.xapi, count)
    kept.push(cache)
    return { entries: cache.stats().size, ms: Math.round(performance.now() - started) }
  },
  close: async () => {
    await gw.close()
    setTimeout(() => process.exit(0), 20)
  }
}, { url: gw.url, pid: process.pid } satisfies GatewayInfo)
