// Tenant changes without a restart (docs/operating.md "Changing tenants"): where the tenants come
// from and when to read them again. TENANTS_FILE is read again on SIGHUP (`systemctl reload`,
// `docker kill -s HUP`), not on every write: an editor saving half a file, or a deploy tool writing
// it in steps, is never taken for the new set. The tenants table is read again when a
// `3cx-gateway tenants …` command NOTIFYs its change, on SIGHUP, and every few seconds anyway. A source with
// problems (file:line errors, an unset ${VAR}) or out of reach leaves the running tenants as they are.
import { ConfigError } from '../config.js'
import { redactDatabaseUrl } from '../database-url.js'
import { loadTenantsFile, type TenantDefinition } from './tenants-file.js'
import { definitionsFromTable } from './tenants-command.js'
import type { TenantsTable } from './tenants-table.js'

export interface TenantSource {
  /** For the log: where the tenants come from. */
  describe: string
  /** The tenants as the source has them now; throws ConfigError listing its problems. */
  load: () => Promise<TenantDefinition[]>
  /** Calls `changed` whenever the source may have changed; resolves to the function that stops it. */
  watch: (changed: () => void) => Promise<() => Promise<void>>
}

export function tenantsFileSource (file: string, env: NodeJS.ProcessEnv = process.env): TenantSource {
  return {
    describe: `TENANTS_FILE ${file}`,
    load: async () => loadTenantsFile(file, env),
    async watch (changed) {
      const onHup = (): void => { changed() }
      process.on('SIGHUP', onHup)
      return async () => { process.off('SIGHUP', onHup) }
    }
  }
}

/** The tenants table; the source owns it (closed when the watch stops). */
export function tenantsTableSource (table: TenantsTable, pollMs = 3000, env: NodeJS.ProcessEnv = process.env): TenantSource {
  return {
    describe: 'the tenants table',
    load: async () => definitionsFromTable(await table.list(), env),
    async watch (changed) {
      const stop = await table.follow(changed, pollMs)
      // SIGHUP (`systemctl reload`) reads the table now, as it does TENANTS_FILE; without a listener Node exits on it.
      const onHup = (): void => { changed() }
      process.on('SIGHUP', onHup)
      return async () => { process.off('SIGHUP', onHup); await stop(); await table.close() }
    }
  }
}

/** How the last read of the tenants' source went (the front's /readyz shows it). */
export interface SourceStatus {
  source: string
  ok: boolean
  /** Why the last read failed (file:line problems or the error's message; never a value). */
  problem?: string
  /** Since when the reads fail (ISO time of the first failure in a row). */
  failingSince?: string
}

interface Log { info: (o: object, m: string) => void, warn: (o: object, m: string) => void, error: (o: object, m: string) => void }

/**
 * Reads a source and hands the tenants to `apply`, one reload at a time: a change signalled while
 * one runs queues one more reload (however many signals came), which starts when it is done.
 */
export class TenantReloader {
  private chain: Promise<void> = Promise.resolve()
  private queued: Promise<void> | null = null
  private stopWatching: (() => Promise<void>) | null = null
  private failure: { problem: string, since: number } | null = null

  constructor (private readonly source: TenantSource, private readonly apply: (next: TenantDefinition[]) => Promise<void>, private readonly log: Log) {}

  /** The last read: ok until a read fails, and again once one succeeds. */
  status (): SourceStatus {
    const f = this.failure
    return f === null ? { source: this.source.describe, ok: true } : { source: this.source.describe, ok: false, problem: f.problem, failingSince: new Date(f.since).toISOString() }
  }

  async start (): Promise<void> {
    this.stopWatching = await this.source.watch(() => { void this.reload() })
  }

  /** Resolves once a reload that started after this call is done (its outcome is logged, never thrown). */
  async reload (): Promise<void> {
    if (this.queued !== null) return await this.queued
    const next = this.chain.then(async () => { this.queued = null; await this.once() })
    this.queued = next
    this.chain = next
    return await next
  }

  private async once (): Promise<void> {
    let next: TenantDefinition[]
    try {
      next = await this.source.load()
    } catch (err) {
      // The problems name files, lines and fields, never a value: no secret reaches the log.
      // Shown on /readyz, which answers without a key: a connection string's password never goes with it.
      const problem = err instanceof ConfigError ? err.problems.join('; ') : `cannot read it: ${redactDatabaseUrl(err instanceof Error ? err.message : String(err))}`
      this.failure = { problem, since: this.failure?.since ?? Date.now() }
      if (err instanceof ConfigError) this.log.error({ problems: err.problems }, `${this.source.describe} has problems; the running tenants are kept:\n${err.problems.map((p) => `  - ${p}`).join('\n')}`)
      else this.log.warn({ err: err instanceof Error ? err.message : String(err) }, `cannot read ${this.source.describe}; the running tenants are kept`)
      return
    }
    this.failure = null
    await this.apply(next).catch((err: unknown) => { this.log.error({ err }, 'applying the tenants\' changes failed') })
  }

  async stop (): Promise<void> {
    await this.stopWatching?.()
    this.stopWatching = null
    await this.chain
  }
}
