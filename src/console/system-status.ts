// The console's "system" panel: readiness (PBX, token, WebSocket, outbox, webhooks), PBX version,
// calls in progress, outbox depth, free disk space of DATA_DIR and MP3_DIR, and (replicas) which
// replica holds this PBX's event stream. Nothing secret: the same facts /readyz and /metrics give,
// plus the paths the operator configured.
import { statfs } from 'node:fs/promises'
import { evaluateReadiness, type ReadinessCheck, type ReadinessReport } from '../health.js'
import type { GatewayDeps } from '../plugins/app/gateway.js'
import { VERSION } from '../version.js'
import type { StreamStatus } from '../replicas/stream-lease.js'

export interface DiskSpace {
  /** The setting the path comes from: DATA_DIR or MP3_DIR. */
  name: string
  path: string
  freeBytes: number | null
  totalBytes: number | null
  error: string | null
}

export interface SystemStatus extends ReadinessReport {
  version: string
  mode: 'demo' | 'pbx'
  pbxVersion: string | null
  uptimeS: number
  callsInProgress: number
  outboxDepth: number | null
  disks: DiskSpace[]
  /** Which replica holds the PBX's event stream, as /readyz says (absent when the app has no stream). */
  stream?: StreamStatus
}

export async function diskSpace (name: string, path: string): Promise<DiskSpace> {
  try {
    const s = await statfs(path)
    return { name, path, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize, error: null }
  } catch (err) {
    return { name, path, freeBytes: null, totalBytes: null, error: (err as NodeJS.ErrnoException).code ?? 'unreadable' }
  }
}

export async function systemStatus (deps: GatewayDeps, checks: readonly ReadinessCheck[], startedAt: number, pbxVersion: () => Promise<string | null>): Promise<SystemStatus> {
  const outbox = deps.outbox
  let outboxDepth: number | null = null
  try {
    outboxDepth = outbox?.depthTotal() ?? null
  } catch {
    // gateway.db unreadable: the outbox check says so.
  }
  const [report, version, ...disks] = await Promise.all([
    evaluateReadiness(checks),
    pbxVersion(),
    diskSpace('DATA_DIR', deps.config.dataDir),
    diskSpace('MP3_DIR', deps.config.recordings.mp3Dir)
  ])
  return {
    ...report,
    version: VERSION,
    mode: deps.config.demo ? 'demo' : 'pbx',
    pbxVersion: version,
    uptimeS: Math.floor((Date.now() - startedAt) / 1000),
    callsInProgress: deps.calls.size(),
    outboxDepth,
    disks,
    ...(deps.stream !== undefined ? { stream: deps.stream() } : {})
  }
}
