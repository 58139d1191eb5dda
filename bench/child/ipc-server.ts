// Child side of the benchmark's process helper: answers the parent's `{id, cmd, args}` messages
// with the matching handler's result, and announces that the process is ready (with its URL etc.).
export type IpcHandler = (args: never) => unknown
export type IpcHandlers = Record<string, IpcHandler>

interface IpcRequest { id: number, cmd: string, args: unknown }

/** Commands every child answers: its CPU time so far (µs, user + system). */
const BUILT_IN: IpcHandlers = {
  cpuMicros: () => {
    const u = process.cpuUsage()
    return u.user + u.system
  }
}

function send (message: unknown): void {
  if (process.send === undefined) throw new Error('bench child processes are started by bench/processes.ts (an IPC channel is needed)')
  process.send(message)
}

/** Serves `handlers` over IPC and tells the parent `info` once; exits when the parent goes. */
export function serveIpc (handlers: IpcHandlers, info: unknown): void {
  process.on('message', (raw: unknown) => {
    const msg = raw as IpcRequest
    const handler = (handlers[msg.cmd] ?? BUILT_IN[msg.cmd]) as ((args: unknown) => unknown) | undefined
    Promise.resolve()
      .then(() => {
        if (handler === undefined) throw new Error(`unknown command ${msg.cmd}`)
        return handler(msg.args)
      })
      .then(
        (result) => { send({ id: msg.id, ok: true, result: result ?? null }) },
        (err: unknown) => { send({ id: msg.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }) }
      )
  })
  process.on('disconnect', () => { process.exit(0) })
  send({ ready: info })
}

/** Memory of this process in MB, after a full GC when the process runs with --expose-gc. */
export function memoryMb (): { rssMb: number, heapUsedMb: number, externalMb: number, maxRssMb: number } {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc !== undefined) gc()
  const m = process.memoryUsage()
  const mb = (n: number): number => Math.round(n / 1048576 * 10) / 10
  return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external), maxRssMb: mb(process.resourceUsage().maxRSS * 1024) }
}

/**
 * Memory once V8 has given back what a full GC freed: after a burst of short-lived objects the
 * freed heap pages are returned to the system by a background task, so RSS read right after gc()
 * still counts them. Collects, waits `settleMs`, then reads (after another full GC).
 */
export async function settledMemoryMb (settleMs: number): Promise<ReturnType<typeof memoryMb>> {
  memoryMb()
  await new Promise((resolve) => setTimeout(resolve, settleMs))
  return memoryMb()
}
