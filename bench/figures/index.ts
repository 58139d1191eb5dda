// Every figure, in the order the benchmark runs them, and each one's target (for a figure that
// fails to run at all).
import type { Figure } from '../figure.js'
import { cachedGet } from './cached-get.js'
import { liveGet } from './live-get.js'
import { coldRead } from './cold-read.js'
import { singleFlight } from './single-flight.js'
import { eventLatency } from './event-latency.js'
import { deliveryThroughput } from './delivery-throughput.js'
import { mp3Conversion } from './mp3-conversion.js'
import { memory } from './memory.js'
import { startup } from './startup.js'
import { exportFigure } from './export.js'

export const FIGURES: Figure[] = [cachedGet, liveGet, coldRead, singleFlight, eventLatency, deliveryThroughput, mp3Conversion, memory, startup, exportFigure]

export const TARGETS: Record<string, string> = {
  'cached-get': '≥ 0.6 of ceiling',
  'live-get': '≥ 0.5 of ceiling',
  'cold-read': '≤ +2 ms p50',
  'single-flight': 'exactly 1',
  'event-latency': 'p99 ≤ 50 ms',
  'delivery-throughput': '≥ 1,000 events/s',
  'mp3-conversion': '≥ 0.9 of ceiling',
  memory: '≤ 250 MB',
  startup: '≤ 1.5 s',
  export: 'RSS ≤ 150 MB'
}
