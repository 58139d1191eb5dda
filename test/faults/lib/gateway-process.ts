// A gateway child process of the fault rig (gateway-child.ts): spawned with the rig's environment,
// its output scanned line by line; a `spare` loads its code first and starts only when told to.
import type { ChildProcess } from 'node:child_process'
import { spawnUninstrumented } from '../../ts-child.js'
import { gatewayChildArgs } from './gateway-child-bundle.js'

export interface GatewayProcess {
  child: ChildProcess
  url: string
  output: () => string
  exited: Promise<void>
}

export interface LaunchedGateway {
  child: ChildProcess
  /** Resolves once a spare's code is loaded (at once for a process that starts by itself). */
  loaded: Promise<void>
  /** Starts a spare (`{ type: 'go' }`); resolves once the gateway listens, rejects with its output when it exits first. */
  started: () => Promise<GatewayProcess>
}

export interface LaunchOptions {
  /** The gateway's configuration (added to this process's environment). */
  env: Record<string, string>
  /** Load the code, then wait for `{ type: 'go' }` before starting on the DATA_DIR. */
  spare: boolean
  /** Every whole line the gateway prints. */
  onLine: (line: string) => void
  /** Lines at level error or fatal (cut at 400 characters). */
  onErrorLine: (line: string) => void
}

export function launchGateway (opts: LaunchOptions): LaunchedGateway {
  const env = { ...process.env, ...opts.env, ...(opts.spare ? { FAULT_RIG_SPARE: '1' } : {}) }
  const child = spawnUninstrumented(['--expose-gc', ...gatewayChildArgs()], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  let out = ''
  let partial = ''
  const onData = (c: Buffer): void => {
    const text = c.toString()
    out += text
    // Whole lines only (a chunk may end inside one, or inside the key).
    const lines = (partial + text).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) opts.onLine(line)
    if (out.length > 200_000) out = out.slice(-100_000)
    for (const line of text.split('\n')) if (/"level":(50|60)/.test(line)) opts.onErrorLine(line.slice(0, 400))
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const printed = async (pattern: RegExp, what: string): Promise<string> => await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not ${what}:\n${out.slice(-2000)}`)), 30_000)
    const check = (): void => {
      const m = pattern.exec(out)
      if (m !== null) { clearTimeout(timer); child.stdout?.off('data', check); resolve(m[1] ?? '') }
    }
    child.stdout?.on('data', check)
    check()
    void exited.then(() => { clearTimeout(timer); reject(new Error(`gateway exited while starting:\n${out.slice(-2000)}`)) })
  })
  const loaded = opts.spare ? printed(/^loaded$/m, 'load').then(() => {}) : Promise.resolve()
  loaded.catch(() => {})
  const started = async (): Promise<GatewayProcess> => {
    if (opts.spare) {
      await loaded
      child.send({ type: 'go' })
    }
    const url = await printed(/ready (http\S+)/, 'start')
    return { child, url, output: () => out, exited }
  }
  return { child, loaded, started }
}
