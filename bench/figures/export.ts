// Export: 100,000 history rows (src/reports/synthetic-history.ts: the reports' own normalization
// and writers) to CSV and to XLSX, each in a fresh process so its peak RSS is the export's own.
import { rmSync } from 'node:fs'
import path from 'node:path'
import type { Figure, FigureResult } from '../figure.js'
import { benchTmp } from '../paths.js'
import { startChild } from '../processes.js'
import type { ExportResult } from '../child/export-process.js'
import { round } from '../stats.js'

const TARGET_MB = 150

async function exportOnce (format: 'csv' | 'xlsx', rows: number): Promise<ExportResult> {
  const file = path.join(benchTmp, `history.${format}`)
  const child = await startChild<ExportResult>('export-process', `export-${format}`, { args: [format, String(rows), file], readyTimeoutMs: 600_000 })
  await child.stop()
  rmSync(file, { force: true })
  return child.info
}

export const exportFigure: Figure = {
  id: 'export',
  title: 'Export (100,000 history rows to CSV and XLSX)',
  async run (opts): Promise<FigureResult> {
    const rows = opts.quick ? 25_000 : 100_000
    const csv = await exportOnce('csv', rows)
    const xlsx = await exportOnce('xlsx', rows)
    const rate = (r: ExportResult): number => round(r.rows / (r.ms / 1000))
    const peak = Math.max(csv.peakRssMb, xlsx.peakRssMb)
    return {
      id: this.id,
      title: opts.quick ? `Export (${rows.toLocaleString('en-US')} history rows to CSV and XLSX, quick run)` : this.title,
      value: peak,
      unit: 'MB peak RSS',
      summary: `CSV ${rate(csv).toLocaleString('en-US')} rows/s, peak RSS ${csv.peakRssMb} MB; XLSX ${rate(xlsx).toLocaleString('en-US')} rows/s, peak RSS ${xlsx.peakRssMb} MB`,
      ceiling: null,
      ratio: null,
      target: { text: `RSS ≤ ${TARGET_MB} MB`, met: peak <= TARGET_MB },
      details: { csv: { ...csv, rowsPerS: rate(csv) }, xlsx: { ...xlsx, rowsPerS: rate(xlsx) } },
      notes: [`Peak RSS of the whole process (Node itself starts at about ${csv.baseRssMb} MB). Files: CSV ${round(csv.bytes / 1048576, 1)} MB, XLSX ${round(xlsx.bytes / 1048576, 1)} MB, written to bench/tmp/ and deleted.`]
    }
  }
}
