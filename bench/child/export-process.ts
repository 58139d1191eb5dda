// One report export in a fresh process, so its peak RSS is the export's own: N synthetic history
// rows through the reports' normalization and writer (src/reports/synthetic-history.ts) into a
// file. Args: <csv|xlsx> <rows> <file>. Reports rows/s, file size and peak RSS, then exits.
import { createWriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { ReportFormat } from '../../src/reports/report-kinds.js'
import { writeSyntheticHistory } from '../../src/reports/synthetic-history.js'
import { serveIpc } from './ipc-server.js'

export interface ExportResult { format: string, rows: number, ms: number, bytes: number, peakRssMb: number, baseRssMb: number }

const [format, rowsArg, file] = process.argv.slice(2)
const mb = (bytes: number): number => Math.round(bytes / 1048576 * 10) / 10
const baseRssMb = mb(process.memoryUsage().rss)
let peak = 0
const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 20)
const started = performance.now()
const rows = await writeSyntheticHistory(Number(rowsArg), format as ReportFormat, createWriteStream(file))
const ms = performance.now() - started
clearInterval(sampler)
const maxRss = Math.max(peak, process.resourceUsage().maxRSS * 1024)
const result: ExportResult = { format, rows, ms, bytes: (await stat(file)).size, peakRssMb: mb(maxRss), baseRssMb }
serveIpc({ close: () => { setTimeout(() => process.exit(0), 20) } }, result)
