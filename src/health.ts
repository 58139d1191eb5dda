// Readiness: each part of the gateway says whether it can do its job, and /readyz reports which
// part is not ready and why. A check that hangs counts as not ready (bounded by a timeout). A part
// may also be degraded: working, but with something an operator should see (a webhook target
// disabled or failing); that is reported in the body without making the API unready.

/** A check's answer when the gateway works but something needs attention. */
export interface Degraded { degraded: string }

export interface ReadinessCheck {
  name: string
  /** Resolves to null when ready, a sentence saying what is wrong, or `{ degraded }`. */
  run: () => Promise<string | Degraded | null>
}

export interface CheckResult { ok: boolean, degraded?: boolean, detail?: string }

export interface ReadinessReport {
  ready: boolean
  /** Names of the checks that are ok but degraded. */
  degraded: string[]
  checks: Record<string, CheckResult>
}

export async function evaluateReadiness (checks: readonly ReadinessCheck[], timeoutMs = 3000): Promise<ReadinessReport> {
  const results = await Promise.all(checks.map(async (c) => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => { resolve(`no answer within ${timeoutMs} ms`) }, timeoutMs)
    })
    try {
      const detail = await Promise.race([c.run(), timeout])
      const result: CheckResult = detail === null ? { ok: true } : typeof detail === 'string' ? { ok: false, detail } : { ok: true, degraded: true, detail: detail.degraded }
      return [c.name, result] as const
    } catch (err) {
      return [c.name, { ok: false, detail: err instanceof Error ? err.message : String(err) } as CheckResult] as const
    } finally {
      clearTimeout(timer)
    }
  }))
  const out: ReadinessReport['checks'] = {}
  for (const [name, r] of results) out[name] = r
  return { ready: results.every(([, r]) => r.ok), degraded: results.filter(([, r]) => r.degraded === true).map(([n]) => n), checks: out }
}

/** Caches a slow check's answer for a while, so frequent probes do not hammer the PBX. */
export function cachedCheck (check: ReadinessCheck, ttlMs: number): ReadinessCheck {
  let last: { at: number, value: Promise<string | Degraded | null> } | null = null
  return {
    name: check.name,
    run: async () => {
      const now = Date.now()
      if (last === null || now - last.at > ttlMs) last = { at: now, value: check.run().catch((e: unknown) => (e instanceof Error ? e.message : String(e))) }
      return await last.value
    }
  }
}
