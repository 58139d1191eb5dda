// Directory data (users, queues, ring groups, IVRs, trunks, departments, PBX version) from XAPI,
// cached in one bounded LRU: per-entity TTLs, one PBX request however many callers ask at once
// (lru-cache's fetch is single-flight), stale entries served while a refresh runs in the background,
// stale entries kept when the PBX fails, and invalidation by the gateway's own setters.
import { LRUCache } from 'lru-cache'
import type { Clock } from '../clock.js'
import { eq, expandWith, type ODataQuery } from '../pbx/odata.js'
import type { XapiApi, XapiRequestOptions } from '../pbx/pbx-api.js'
import {
  indexByNumber, indexQueues, toDirectoryGroup, toDirectoryUser, toUserSummary,
  type DirectoryGroup, type DirectoryUser, type Indexed, type QueueIndex, type UserSummary,
  type XapiGroupRow, type XapiUserRow
} from './directory-types.js'

export interface DirectoryTtls {
  /** One extension (ext.info.get, ext.state.get). */
  userMs: number
  /** Every list (users, queues, ring groups, IVRs, lines, departments). */
  listMs: number
  /** PBX version (gateway info). */
  systemMs: number
  /** "No such extension", so a typo does not cost a PBX request each time. */
  missingMs: number
}

export const DEFAULT_TTLS: DirectoryTtls = { userMs: 30_000, listMs: 60_000, systemMs: 300_000, missingMs: 5_000 }

export interface DirectoryCacheOptions {
  ttl?: Partial<DirectoryTtls>
  /** Most entries kept (each extension is one entry; each list one). */
  max?: number
  /** What the TTLs are measured on; lru-cache's own (performance.now) when absent. Tests pass a fake clock. */
  clock?: Pick<Clock, 'now'>
}

export interface DirectoryCacheStats {
  hits: number
  stale: number
  misses: number
  /** Requests sent to the PBX. */
  fetches: number
  fetchErrors: number
  size: number
}

/** A cached value; `value: null` records that the PBX has no such entity. */
interface Entry { value: unknown }

const USER_SELECT = ['Id', 'Number', 'FirstName', 'LastName', 'EmailAddress', 'Mobile', 'OutboundCallerID',
  'Enabled', 'IsRegistered', 'CurrentProfileName', 'QueueStatus']
// Profiles unselected: `OfficeHoursAutoQueueLogOut` is in 3CX's swagger but not on every build,
// and selecting a property a PBX lacks fails the whole request.
const USER_EXPAND = [expandWith('Groups', { select: ['Name'] }), 'ForwardingProfiles']
const NUMBER_ONLY = ['Number']
const BY_NUMBER = ['Number']
const PEEK = { allowStale: false } as const
const STALE_PEEK = { allowStale: true } as const

const USERS = 'users'
const QUEUES = 'queues'
const RING_GROUPS = 'ringgroups'
const IVRS = 'ivrs'
const LINES = 'lines'
const DEPARTMENTS = 'departments'
const SYSTEM = 'system'
const USER_PREFIX = 'user:'

export class DirectoryCache {
  private readonly cache: LRUCache<string, Entry>
  private readonly ttl: DirectoryTtls
  private readonly counters = { hits: 0, stale: 0, misses: 0, fetches: 0, fetchErrors: 0 }
  /** Bumped by every invalidation, so a read can tell that its aborted fetch was superseded. */
  private generation = 0

  constructor (private readonly xapi: XapiApi, opts: DirectoryCacheOptions = {}) {
    this.ttl = { ...DEFAULT_TTLS, ...opts.ttl }
    this.cache = new LRUCache<string, Entry>({
      max: opts.max ?? 10_000,
      // ttlResolution 0: read the clock on every check. lru-cache's default holds a reading for 1 ms
      // of real time behind a new setTimeout each millisecond: under a polling CRM, a timer per ms
      // on the cached-GET path, dearer than the clock read it saves (issue 16).
      ttlResolution: 0,
      ...(opts.clock === undefined ? {} : { perf: { now: () => opts.clock!.now() } }),
      ttl: this.ttl.listMs,
      allowStale: true,
      noDeleteOnStaleGet: true,
      // An invalidation deletes the key, which "aborts" its fetch: the fetch still runs to the end
      // and answers everyone waiting on it, it is just not stored (read() then fetches once more).
      // So the PBX request gets no abort signal: an invalidation must never fail a waiting request.
      ignoreFetchAbort: true,
      fetchMethod: async (key, stale, { options }) => {
        this.counters.fetches++
        try {
          const value = await this.load(key)
          options.ttl = value === null ? this.ttl.missingMs : this.ttlOf(key)
          return { value }
        } catch (err) {
          this.counters.fetchErrors++
          // The PBX failed: keep serving what we had for a short while, else let the caller see why.
          if (stale === undefined) throw err
          options.ttl = this.ttl.missingMs
          return stale
        }
      }
    })
  }

  /** A fresh cached value without a promise (hot paths), or undefined when it must be fetched. */
  peekUser (num: string): DirectoryUser | null | undefined { return this.peek(USER_PREFIX + num) }
  peekQueues (): QueueIndex | undefined { return this.peek(QUEUES) }

  /** One extension by number, or null when the PBX has none. */
  async user (num: string): Promise<DirectoryUser | null> {
    return await this.read<DirectoryUser | null>(USER_PREFIX + num)
  }

  async users (): Promise<Indexed<UserSummary>> { return await this.read(USERS) }
  async queues (): Promise<QueueIndex> { return await this.read(QUEUES) }
  async ringGroups (): Promise<Indexed<DirectoryGroup>> { return await this.read(RING_GROUPS) }
  async receptionists (): Promise<string[]> { return await this.read(IVRS) }
  async lines (): Promise<string[]> { return await this.read(LINES) }
  async departments (): Promise<string[]> { return await this.read(DEPARTMENTS) }
  /** The PBX's version string (`SystemStatus.Version`). */
  async pbxVersion (): Promise<string> { return await this.read(SYSTEM) }

  /** After the gateway changed an extension: its entry and the users list. */
  invalidateUser (num: string): void {
    this.generation++
    this.cache.delete(USER_PREFIX + num)
    this.cache.delete(USERS)
  }

  /** After the gateway changed queue membership. */
  invalidateQueues (): void {
    this.generation++
    this.cache.delete(QUEUES)
  }

  clear (): void {
    this.generation++
    this.cache.clear()
  }

  stats (): DirectoryCacheStats {
    return { ...this.counters, size: this.cache.size }
  }

  private peek<T> (key: string): T | undefined {
    const fresh = this.cache.get(key, PEEK)
    if (fresh === undefined) return undefined
    this.counters.hits++
    return fresh.value as T
  }

  private async read<T> (key: string): Promise<T> {
    const fresh = this.cache.get(key, PEEK)
    if (fresh !== undefined) {
      this.counters.hits++
      return fresh.value as T
    }
    if (this.cache.peek(key, STALE_PEEK) !== undefined) this.counters.stale++
    else this.counters.misses++
    const generation = this.generation
    let entry = await this.cache.fetch(key)
    // A setter invalidated while this fetch ran, so its answer may predate the change: fetch once
    // more. That second answer is used even if yet another invalidation comes (it started after
    // the change this read overlapped), so a stream of setters cannot starve or fail a read.
    if (generation !== this.generation) entry = await this.cache.fetch(key)
    if (entry === undefined) throw new Error(`directory entry ${key} could not be loaded`)
    return entry.value as T
  }

  private ttlOf (key: string): number {
    if (key.startsWith(USER_PREFIX)) return this.ttl.userMs
    return key === SYSTEM ? this.ttl.systemMs : this.ttl.listMs
  }

  private async load (key: string): Promise<unknown> {
    const opts = (query: ODataQuery): XapiRequestOptions => ({ query })
    if (key.startsWith(USER_PREFIX)) {
      const num = key.slice(USER_PREFIX.length)
      const res = await this.xapi.list<XapiUserRow>('Users', opts({ filter: eq('Number', num), select: USER_SELECT, expand: USER_EXPAND }))
      const row = res.value.find((u) => u.Number === num)
      return row === undefined ? null : toDirectoryUser(row)
    }
    switch (key) {
      case USERS: {
        const res = await this.xapi.list<XapiUserRow>('Users', opts({ select: ['Id', 'Number', 'IsRegistered', 'QueueStatus', 'CurrentProfileName'], orderby: BY_NUMBER }))
        return indexByNumber(res.value.map(toUserSummary))
      }
      case QUEUES: {
        const res = await this.xapi.list<XapiGroupRow>('Queues', opts({ select: ['Id', 'Number', 'Name'], expand: [expandWith('Agents', { select: NUMBER_ONLY })], orderby: BY_NUMBER }))
        return indexQueues(res.value.map(toDirectoryGroup))
      }
      case RING_GROUPS: {
        const res = await this.xapi.list<XapiGroupRow>('RingGroups', opts({ select: ['Id', 'Number', 'Name'], expand: [expandWith('Members', { select: NUMBER_ONLY })], orderby: BY_NUMBER }))
        return indexByNumber(res.value.map(toDirectoryGroup))
      }
      case IVRS: return await this.numbers('Receptionists')
      case LINES: return await this.numbers('Trunks')
      case DEPARTMENTS: {
        const res = await this.xapi.list<{ Name?: string | null }>('Groups', opts({ select: ['Name'] }))
        return res.value.map((g) => g.Name ?? '').filter((n) => n !== '')
      }
      case SYSTEM: {
        const res = await this.xapi.get<{ Version?: string | null }>('SystemStatus', opts({ select: ['Version'] }))
        return res.Version ?? ''
      }
    }
    throw new Error(`unknown directory key ${key}`)
  }

  private async numbers (set: string): Promise<string[]> {
    const res = await this.xapi.list<{ Number?: string | null }>(set, { query: { select: NUMBER_ONLY, orderby: BY_NUMBER } })
    return res.value.map((x) => x.Number ?? '').filter((n) => n !== '')
  }
}
