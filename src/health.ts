// Readiness: each part of the gateway says whether it can do its job, and /readyz reports which
// part is not ready and why. A check that hangs counts as not ready (bounded by a timeout).

export interface ReadinessCheck {
  name: string
  /** Resolves to null when ready, or a sentence saying what is wrong. */
  run: () => Promise<string | null>
}

export interface ReadinessReport {
  ready: boolean
  checks: Record<string, { ok: boolean, detail?: string }>
}

export async function evaluateReadiness (checks: readonly ReadinessCheck[], timeoutMs = 3000): Promise<ReadinessReport> {
  const results = await Promise.all(checks.map(async (c) => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => { resolve(`no answer within ${timeoutMs} ms`) }, timeoutMs)
    })
    try {
      const detail = await Promise.race([c.run(), timeout])
      return [c.name, detail === null ? { ok: true } : { ok: false, detail }] as const
    } catch (err) {
      return [c.name, { ok: false, detail: err instanceof Error ? err.message : String(err) }] as const
    } finally {
      clearTimeout(timer)
    }
  }))
  const out: ReadinessReport['checks'] = {}
  for (const [name, r] of results) out[name] = r
  return { ready: results.every(([, r]) => r.ok), checks: out }
}

/** Caches a slow check's answer for a while, so frequent probes do not hammer the PBX. */
export function cachedCheck (check: ReadinessCheck, ttlMs: number): ReadinessCheck {
  let last: { at: number, value: Promise<string | null> } | null = null
  return {
    name: check.name,
    run: async () => {
      const now = Date.now()
      if (last === null || now - last.at > ttlMs) last = { at: now, value: check.run().catch((e: unknown) => (e instanceof Error ? e.message : String(e))) }
      return await last.value
    }
  }
}
