// `node dist/bench/profile-summary.js FILE.cpuprofile [N]`: where a V8 CPU profile (written by
// `npm run bench -- --cpu-prof`) spent its time, as text: the N functions with the most self time,
// and self time per source file, as shares of the busy time (idle left out; GC and native code are
// listed as V8 names them: "(garbage collector)", "(program)", a native function's own name).
import { readFileSync } from 'node:fs'
import path from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Self time in µs per node id. */
function selfTimes (profile: CpuProfile): Map<number, number> {
  const out = new Map<number, number>()
  profile.samples.forEach((id, i) => { out.set(id, (out.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)) })
  return out
}

/** `node_modules/fastify/lib/reply.js` rather than a full file URL. */
function shortFile (url: string): string {
  if (url === '') return '(native)'
  const file = url.replace(/^file:\/\//, '')
  const nm = file.lastIndexOf('node_modules/')
  return nm === -1 ? path.relative(process.cwd(), file) : file.slice(nm)
}

export function summarise (profile: CpuProfile, top: number): string {
  const self = selfTimes(profile)
  for (const node of profile.nodes) if (node.callFrame.functionName === '(idle)') self.delete(node.id)
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const byFunction = new Map<string, number>()
  const byFile = new Map<string, number>()
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0
    if (us === 0) continue
    const file = shortFile(node.callFrame.url)
    const fn = `${node.callFrame.functionName === '' ? '(anonymous)' : node.callFrame.functionName} ${file}:${node.callFrame.lineNumber + 1}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us)
    byFile.set(file, (byFile.get(file) ?? 0) + us)
  }
  const rows = (m: Map<string, number>): string[] => [...m].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([what, us]) => `${(100 * us / total).toFixed(1).padStart(5)}%  ${what}`)
  return [`busy ${(total / 1e6).toFixed(2)} s sampled`, '', 'self time by function:', ...rows(byFunction), '', 'self time by file:', ...rows(byFile)].join('\n')
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const [file, n] = process.argv.slice(2)
  if (file === undefined) {
    process.stderr.write('usage: node dist/bench/profile-summary.js FILE.cpuprofile [N]\n')
    process.exit(2)
  }
  process.stdout.write(`${summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(n ?? 30))}\n`)
}
