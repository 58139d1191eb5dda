// Runs `3cx-gateway …` in this process (the CLI's main, as the binary does) with extra environment
// variables, capturing what it prints; the environment is restored afterwards.
import { Writable } from 'node:stream'
import { main } from '../../src/cli.js'

export async function run (args: string[], env: Record<string, string>): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const saved = { ...process.env }
  Object.assign(process.env, env)
  try {
    const code = await main(args, {
      stdout: new Writable({ write (c, _e, cb) { out += String(c); cb() } }),
      stderr: new Writable({ write (c, _e, cb) { err += String(c); cb() } })
    })
    return { code, out, err }
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) Reflect.deleteProperty(process.env, k)
    Object.assign(process.env, saved)
  }
}

/** The key a `tenants add` or `rotate-key` printed. */
export const printedKey = (out: string): string => /shown only now: (\S+)/.exec(out)?.[1] ?? ''
