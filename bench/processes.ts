// Parent side of the benchmark's process helper: starts a bench/child/*.js script in its own Node
// process (so the load generator never shares the measured event loop), waits until it says it is
// ready, and sends it commands over IPC. The child's output goes to bench/tmp/logs/<name>.log.
import { fork, type ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { benchTmp } from './paths.js'

export interface BenchChild<Info> {
  name: string
  pid: number
  info: Info
  call: <T = unknown>(cmd: string, args?: unknown) => Promise<T>
  /** Asks the child to close, then SIGTERM, then SIGKILL; resolves when it has exited. */
  stop: () => Promise<void>
}

export interface ChildOptions {
  env?: Record<string, string>
  args?: string[]
  execArgv?: string[]
  /** How long to wait for "ready" (default 30 s). */
  readyTimeoutMs?: number
}

interface IpcReply { id?: number, ok?: boolean, result?: unknown, error?: string, ready?: unknown }

/** Children not stopped yet, so a broken run can still end them all (stopAllChildren). */
const running = new Set<BenchChild<unknown>>()

export async function stopAllChildren (): Promise<void> {
  await Promise.all([...running].map(async (c) => { await c.stop() }))
}

const childDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'child')

function logTail (file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n')
  } catch {
    return ''
  }
}

async function exited (child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true
  return await new Promise((resolve) => {
    const timer = setTimeout(() => { resolve(false) }, ms)
    child.once('exit', () => { clearTimeout(timer); resolve(true) })
  })
}

/** Starts `bench/child/<script>.js` as `name`. */
export async function startChild<Info> (script: string, name: string, opts: ChildOptions = {}): Promise<BenchChild<Info>> {
  const logDir = path.join(benchTmp, 'logs')
  mkdirSync(logDir, { recursive: true })
  const logFile = path.join(logDir, `${name}.log`)
  const fd = openSync(logFile, 'w')
  const child = fork(path.join(childDir, `${script}.js`), opts.args ?? [], {
    env: { ...process.env, ...opts.env },
    execArgv: opts.execArgv ?? [],
    stdio: ['ignore', fd, fd, 'ipc']
  })
  closeSync(fd)
  const pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  let nextId = 1
  const info = await new Promise<Info>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`${name} did not get ready in time; log:\n${logTail(logFile)}`)) }, opts.readyTimeoutMs ?? 30_000)
    child.on('message', (raw: unknown) => {
      const msg = raw as IpcReply
      if (msg.ready !== undefined) { clearTimeout(timer); resolve(msg.ready as Info); return }
      const p = pending.get(msg.id ?? -1)
      if (p === undefined) return
      pending.delete(msg.id ?? -1)
      if (msg.ok === true) p.resolve(msg.result)
      else p.reject(new Error(`${name}: ${msg.error ?? 'failed'}`))
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      const err = new Error(`${name} exited (${code ?? signal ?? '?'}); log:\n${logTail(logFile)}`)
      reject(err)
      for (const p of pending.values()) p.reject(err)
      pending.clear()
    })
  })
  const call = async <T>(cmd: string, args?: unknown): Promise<T> => {
    if (!child.connected) throw new Error(`${name} is not running`)
    const id = nextId++
    return await new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      child.send({ id, cmd, args: args ?? null })
    })
  }
  const stop = async (): Promise<void> => {
    running.delete(handle)
    if (child.connected) {
      await Promise.race([call('close').catch(() => {}), new Promise((resolve) => setTimeout(resolve, 10_000))])
    }
    if (await exited(child, 3000)) return
    child.kill('SIGTERM')
    if (await exited(child, 3000)) return
    child.kill('SIGKILL')
    await exited(child, 3000)
  }
  const handle: BenchChild<Info> = { name, pid: child.pid ?? -1, info, call, stop }
  running.add(handle as BenchChild<unknown>)
  return handle
}
