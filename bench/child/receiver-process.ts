// A webhook receiver in its own process: node:http, reads each request body, answers 204 and
// counts. Used as the delivery target and, on its own, as the delivery-throughput ceiling. With
// BENCH_RECEIVER_ARRIVALS=1 it also notes when each event arrived and its call id (from its chid);
// with BENCH_RECEIVER_DELAY_MS=N it answers each request N ms after reading it (a slow CRM).
import http from 'node:http'
import { serveIpc } from './ipc-server.js'

export interface ReceiverInfo { url: string, pid: number }

let received = 0
let bytes = 0
const keepArrivals = process.env.BENCH_RECEIVER_ARRIVALS === '1'
const arrivals: Array<{ at: number, callid: number }> = []
const delayMs = Number(process.env.BENCH_RECEIVER_DELAY_MS ?? 0)
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => { bytes += chunk.length; if (keepArrivals) chunks.push(chunk) })
  req.on('end', () => {
    if (keepArrivals) {
      const chid = /"chid":"[^"]*_(\d+)"/.exec(Buffer.concat(chunks).toString())
      arrivals.push({ at: Date.now(), callid: chid === null ? -1 : Number(chid[1]) })
    }
    received++
    res.statusCode = 204
    if (delayMs > 0) setTimeout(() => { res.end() }, delayMs)
    else res.end()
  })
})
server.keepAliveTimeout = 60_000
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const address = server.address()
const port = typeof address === 'object' && address !== null ? address.port : 0

serveIpc({
  count: () => ({ received, bytes }),
  /** Events that arrived at or after `since` (ms epoch), with their call ids. */
  arrivals: ({ since }: { since: number }) => arrivals.filter((a) => a.at >= since),
  reset: () => { received = 0; bytes = 0 },
  close: async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    setTimeout(() => process.exit(0), 20)
  }
}, { url: `http://127.0.0.1:${port}/hook`, pid: process.pid } satisfies ReceiverInfo)
