// Test helper: a real HTTP receiver on 127.0.0.1:0 that records every request and answers with
// whatever `respond` decides (status, headers, delay).
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  body: string
  at: number
}

export interface Reply { status?: number, headers?: Record<string, string>, delayMs?: number, body?: string }

export interface Receiver {
  url: string
  port: number
  /** Requests answered 2xx. */
  received: Received[]
  /** Every request. */
  all: Received[]
  respond: (r: Received) => Reply | undefined
  close: () => Promise<void>
  /** Resolves once `n` requests have arrived (rejects after `timeoutMs`). */
  waitFor: (n: number, timeoutMs?: number) => Promise<void>
}

export async function startReceiver (port = 0, respond: Receiver['respond'] = () => undefined): Promise<Receiver> {
  const waiters: Array<{ n: number, resolve: () => void }> = []
  const delayed = new Set<NodeJS.Timeout>()
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() }
      receiver.all.push(r)
      const reply = receiver.respond(r) ?? {}
      const send = (): void => {
        if (res.destroyed) return
        res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain', ...reply.headers })
        res.end(reply.body ?? 'ok')
        if ((reply.status ?? 200) < 300) {
          receiver.received.push(r)
          for (const w of [...waiters]) if (receiver.received.length >= w.n) { waiters.splice(waiters.indexOf(w), 1); w.resolve() }
        }
      }
      if (reply.delayMs !== undefined) {
        const timer = setTimeout(() => { delayed.delete(timer); send() }, reply.delayMs)
        delayed.add(timer)
      }
      else send()
    })
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const actual = (server.address() as AddressInfo).port
  const receiver: Receiver = {
    url: `http://127.0.0.1:${actual}/hook`,
    port: actual,
    received: [],
    all: [],
    respond,
    close: async () => {
      for (const timer of delayed) clearTimeout(timer)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
    waitFor: async (n, timeoutMs = 10_000) => {
      if (receiver.received.length >= n) return
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${receiver.received.length} of ${n} requests arrived`)), timeoutMs)
        waiters.push({ n, resolve: () => { clearTimeout(timer); resolve() } })
      })
    }
  }
  return receiver
}
