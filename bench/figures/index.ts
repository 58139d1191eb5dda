// Every figure, in the order the benchmark runs them, and each one's target (for a figure that
// fails to run at all).
import type { Figure } from '../figure.js'
import { cachedGet } from './cached-get.js'
import { liveGet } from './live-get.js'
import { coldRead } from './cold-read.js'
import { singleFlight } from './single-flight.js'
import { eventLatency } from './event-latency.js'
import { deliveryThroughput, deliveryThroughputPg } from './delivery-throughput.js'
import { mp3Conversion } from './mp3-conversion.js'
import { memory } from './memory.js'
import { startup } from './startup.js'
import { exportFigure } from './export.js'
import { simTraffic } from './sim-traffic.js'
import { consoleLoad } from './console-load.js'
import { historyPaging } from './history-paging.js'
import { LOAD_TARGET, TAKEOVER_TARGET, replicasLoad, takeoverTime } from './replicas.js'
import { SIZING_TARGET, tenantsSizing } from './tenants-sizing.js'

// Start-up first: a gateway starts on a machine that has not just run minutes of load, and on a VM
// the same start is slower after it (2026-12-07, 2 vCPUs: 0.78 s median alone, 0.9 s right after
// 15 s of two busy cores, 1.28 s as the tenth figure of a full run). The ratio figures alternate the
// gateway with their ceiling, so the machine's state cancels out of them.
export const FIGURES: Figure[] = [startup, cachedGet, liveGet, coldRead, singleFlight, eventLatency, deliveryThroughput, deliveryThroughputPg, mp3Conversion, memory, exportFigure, simTraffic, consoleLoad, historyPaging, replicasLoad, takeoverTime, tenantsSizing]

export const TARGETS: Record<string, string> = {
  'cached-get': '≥ 0.8 of ceiling',
  'live-get': '≥ 0.8 of ceiling',
  'cold-read': '≤ +1 ms p50',
  'single-flight': 'exactly 1',
  'event-latency': 'p99 ≤ 25 ms',
  'delivery-throughput': '≥ 4,000 events/s',
  'delivery-throughput-pg': '≥ 2,000 events/s',
  'mp3-conversion': '≥ 0.9 of ceiling',
  memory: '≤ 250 MB',
  startup: '≤ 1 s',
  export: 'RSS ≤ 150 MB',
  'sim-traffic': 'no refused call, no leftover participant, heap growth ≤ 16 MB',
  'console-load': '≤ 1 s',
  'history-paging': '≤ 1500 ms',
  'replicas-load': LOAD_TARGET,
  'takeover-time': TAKEOVER_TARGET,
  'tenants-sizing': SIZING_TARGET
}

/** Targets raised: because they were met easily (issue 10, with the measurements that justified it), or by issue 16. */
export const RAISED_TARGETS = [
  'Cold read overhead: from ≤ +2 ms to ≤ +1 ms p50 (measured +0.4 ms).',
  'Event latency: from p99 ≤ 50 ms to p99 ≤ 25 ms (measured 13–17 ms).',
  'Webhook delivery throughput: from ≥ 1,000 to ≥ 4,000 events/s (measured 8,300–8,900).',
  'Start-up: from ≤ 1.5 s to ≤ 1 s (measured 0.63–0.73 s).',
  'Cached legacy GET: from ≥ 0.6 to ≥ 0.8 of the bare route (issue 16).',
  'Live legacy GET: from ≥ 0.5 of a small constant JSON to ≥ 0.8 of the bare route answering the same bytes (issue 16).'
]
