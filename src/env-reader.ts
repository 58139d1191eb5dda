// Reading environment variables into typed settings: each reader records a problem (one line an admin
// can act on) instead of throwing, so config.ts reports every mistake of a .env at once.

export type Env = Record<string, string | undefined>

export function isHttpUrl (s: string): boolean {
  try {
    const u = new URL(s)
    return u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    return false
  }
}

/** Small typed readers that record a problem instead of throwing. */
export class Reader {
  constructor (private readonly env: Env, private readonly problems: string[]) {}

  private raw (name: string): string | undefined {
    const v = this.env[name]
    return v === undefined || v.trim() === '' ? undefined : v.trim()
  }

  str (name: string, def?: string): string {
    const v = this.raw(name)
    if (v !== undefined) return v
    if (def === undefined) {
      this.problems.push(`${name}: required`)
      return ''
    }
    return def
  }

  /** `why`: appended to the problem, when the bounds need a reason. */
  int (name: string, def: number, min: number, max: number, why?: string): number {
    const v = this.raw(name)
    if (v === undefined) return def
    const n = Number(v)
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${name}: expected a whole number from ${min} to ${max}, got "${v}"${why !== undefined ? ` (${why})` : ''}`)
      return def
    }
    return n
  }

  bool (name: string, def: boolean): boolean {
    const v = this.raw(name)
    if (v === undefined) return def
    if (/^(1|true|on|yes)$/i.test(v)) return true
    if (/^(0|false|off|no)$/i.test(v)) return false
    this.problems.push(`${name}: expected on/off (also 1/0, true/false, yes/no), got "${v}"`)
    return def
  }

  oneOf<T extends string> (name: string, allowed: readonly T[], def: T): T {
    const v = this.raw(name)
    if (v === undefined) return def
    const found = allowed.find((a) => a === v.toLowerCase())
    if (found === undefined) {
      this.problems.push(`${name}: expected one of ${allowed.join(', ')}, got "${v}"`)
      return def
    }
    return found
  }

  list (name: string): string[] {
    const v = this.raw(name)
    return v === undefined ? [] : v.split(',').map((s) => s.trim()).filter(Boolean)
  }

  url (name: string, opts: { optional: boolean }): string {
    const v = this.raw(name)
    if (v === undefined) {
      if (!opts.optional) this.problems.push(`${name}: required`)
      return ''
    }
    if (!isHttpUrl(v)) {
      this.problems.push(`${name}: expected an http(s) URL such as https://pbx.example.com:5001, got "${safeUrlText(v)}"`)
      return ''
    }
    return v
  }

  urlList (name: string): string[] {
    return this.list(name).filter((u) => {
      if (isHttpUrl(u)) return true
      this.problems.push(`${name}: "${safeUrlText(u)}" is not an http(s) URL`)
      return false
    })
  }

  /** Comma-separated durations: `0,5s,30s,2m,10m,1h` or plain milliseconds. */
  durationList (name: string, def: number[]): number[] {
    const v = this.raw(name)
    if (v === undefined) return def
    const out: number[] = []
    for (const item of v.split(',').map((s) => s.trim())) {
      const ms = parseDuration(item)
      if (ms === null) {
        this.problems.push(`${name}: "${item}" is not a duration; use e.g. 0,5s,30s,2m,10m,1h`)
        return def
      }
      out.push(ms)
    }
    return out.length > 0 ? out : def
  }
}

/** `250ms`, `5s`, `2m`, `1h`, or a bare number of milliseconds. */
export function parseDuration (s: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s)
  if (m === null) return null
  const n = Number(m[1])
  const unit = m[2] ?? 'ms'
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000
  return Math.round(n * factor)
}

/** Never echo credentials embedded in a URL back into an error line. */
export function safeUrlText (s: string): string {
  return s.replace(/\/\/[^@/]*@/, '//***@').slice(0, 200)
}
