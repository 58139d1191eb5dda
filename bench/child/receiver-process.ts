// A webhook receiver in its own process: node:http, reads each request body, answers 204 and
// counts. Used as the delivery target and, on its own, as the delivery-throughput ceiling.
import http from 'node:http'
import { serveIpc } from './ipc-server.js'

export interface ReceiverInfo { url: string, pid: number }

let received = 0
let bytes = 0
const server = http.createServer((req, res) => {
  req.on('data', (chunk: Buffer) => { bytes += chunk.length })
  req.on('end', () => {
    received++
    res.statusCode = 204
    res.end()
  })
})
server.keepAliveTimeout = 60_000
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const address = server.address()
const port = typeof address === 'object' && address !== null ? address.port : 0

serveIpc({
  count: () => ({ received, bytes }),
  reset: () => { received = 0; bytes = 0 },
  close: async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    setTimeout(() => process.exit(0), 20)
  }
}, { url: `http://127.0.0.1:${port}/hook`, pid: process.pid } satisfies ReceiverInfo)
