// The gateway with TENANTS_FILE in its own process for the tenants-sizing figure, started as
// `3cx-gateway serve` starts it (loadConfig, then the tenants file). Commands: statistics summed
// over the tenants (calls in progress, events delivered), memory once freed pages are returned, close.
import { loadConfig } from '../../src/config.js'
import { loadTenantsFile } from '../../src/tenants/tenants-file.js'
import { startTenantGateway } from '../../src/tenants/tenant-gateway.js'
import { serveIpc, settledMemoryMb } from './ipc-server.js'
import type { GatewayInfo } from './gateway-process.js'

const config = loadConfig(process.env)
if (config.tenantsFile === null) throw new Error('tenants-gateway-process needs TENANTS_FILE')
const gw = await startTenantGateway(config, loadTenantsFile(config.tenantsFile), { shutdownTimeoutMs: 5000 })

serveIpc({
  stats: () => {
    const tenants = [...gw.tenants.values()]
    return {
      tenants: tenants.length,
      holding: tenants.filter((t) => t.services.stream().role !== 'standby').length,
      calls: tenants.reduce((n, t) => n + t.services.calls.size(), 0),
      delivered: tenants.reduce((n, t) => n + t.services.delivery.stats().reduce((m, d) => m + d.delivered, 0), 0)
    }
  },
  settledMemory: async ({ settleMs }: { settleMs: number }) => await settledMemoryMb(settleMs),
  close: async () => {
    await gw.close()
    setTimeout(() => process.exit(0), 20)
  }
}, { url: gw.url, pid: process.pid } satisfies GatewayInfo)
