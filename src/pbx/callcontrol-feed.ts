// The change feed: WebSocket events and REST reads turned into ParticipantChanges (3cx-v20.md §6).
// Events carry no data, so every upsert is fetched (one entity at a time, in order); a full snapshot
// follows every (re)connect and events that arrive meanwhile are applied after it. When the fetches
// fall behind (a slow or failing PBX under heavy traffic), one snapshot replaces the backlog: it
// holds the state of every change announced before it was requested. No sockets here: the feed is
// told when the link opens and closes, and reads through a CallControlReader.
import { PbxError, type ChangeListener } from './pbx-api.js'
import {
  CallControlEventType,
  type CallControlDnType,
  type CallParticipant,
  type DNInfo,
  type ParticipantChange
} from './callcontrol-types.js'
import type { CallControlReader } from './callcontrol-rest.js'
import { errText } from './pbx-errors.js'
import { silentLogger, type PbxLogger } from './pbx-http.js'
import { systemClock, type Clock, type TimerHandle } from '../clock.js'
import { firstEventsOf, keysOf, remember, removedWhileRead } from './feed-arrivals.js'
import { FeedTurns, settledBy } from './feed-turns.js'

/**
 * Removed participants remembered so late upserts and repeated removes emit nothing (on one PBX run
 * ids never come back; a reconnect's snapshot forgets them, since a restarted PBX numbers again).
 */
const REMOVED_MEMORY = 10_000

/** A participant event from the WebSocket. */
export interface ParticipantEvent {
  kind: 'upsert' | 'remove'
  dn: string
  id: number
  /** When it arrived (ms epoch); an event held during a snapshot keeps its arrival time. */
  receivedAt?: number
}

/** Parses one WebSocket message; unknown types, device entities and garbage give null. */
export function parseEventMessage (raw: string): ParticipantEvent | null {
  let msg: unknown
  try { msg = JSON.parse(raw) } catch { return null }
  const event = (msg as { event?: { event_type?: unknown, entity?: unknown } } | null)?.event
  if (typeof event !== 'object' || event === null) return null
  const type = Number(event.event_type)
  if (type !== CallControlEventType.Upsert && type !== CallControlEventType.Remove) return null
  if (typeof event.entity !== 'string') return null
  const m = /\/callcontrol\/([^/]+)\/participants\/(\d+)\/?$/.exec(event.entity)
  if (m === null) return null
  let dn: string
  try { dn = decodeURIComponent(m[1]) } catch { return null }
  return { kind: type === CallControlEventType.Upsert ? 'upsert' : 'remove', dn, id: Number(m[2]) }
}

/** The socket as the feed sees it. */
export interface FeedLink {
  readonly connected: boolean
  /** Drops the socket (a snapshot failed): the reconnect brings a new snapshot. */
  drop: () => void
}

export interface CallControlFeedOptions {
  reader: CallControlReader
  link: FeedLink
  clock?: Clock
  logger?: PbxLogger
  /**
   * When the oldest change not yet fetched was announced longer ago than this, a snapshot replaces
   * the backlog (default 1000 ms).
   */
  catchUpAfterMs?: number
  /** Wait before the snapshot that follows a failed participant fetch (default 500 ms). */
  resyncDelayMs?: number
  /** Called when a snapshot was applied (the link works end to end). */
  synced?: () => void
}

export class CallControlFeed {
  /** Upsert events not yet fetched, in arrival order (a Map keeps insertion order). */
  private readonly pendingUpserts = new Map<object, number>()
  /** Participants with an upsert queued whose fetch has not begun: another upsert adds nothing. */
  private readonly queuedUpserts = new Set<string>()
  /**
   * Participants with an announced change that was not read (its fetch failed or was left to a
   * snapshot not applied yet): their remove is uncertain, the call's end must be looked up.
   */
  private readonly unread = new Set<string>()
  /** When the snapshot being fetched was requested, or null when none is. */
  private snapshotRequestedAt: number | null = null
  /** The oldest change the snapshot being fetched covers (announced, not read, when it was requested). */
  private snapshotCoversFrom: number | null = null
  private _catchUps = 0
  /** When the last snapshot was applied (ms). */
  private snapshotApplied = -Infinity
  /** Since when the feed has not seen the PBX (before its first snapshot, or since the link or a snapshot failed); null while it sees. */
  private unseenSince: number | null = null

  private stopped = true
  /** Bumped when the link opens or closes and on stop: a snapshot of an older link is dropped. */
  private session = 0
  private resyncTimer: TimerHandle | null = null
  private readonly listeners = new Set<ChangeListener>()
  private dnTypes = new Map<string, CallControlDnType>()
  /** dn/id → JSON of the participant last emitted, to drop duplicate upserts. */
  private lastEmitted = new Map<string, string>()
  private readonly removed = new Set<string>()
  /**
   * dn/id → when its latest upsert event arrived: a read shows that change or an older one, so the change is
   * dated by it, not by the read (seconds later behind a backlog of reads: an answer dated late shortens the talk).
   */
  private readonly upsertArrived = new Map<string, number>()
  /** dn/id → when its first upsert event arrived: a snapshot showing it tells the call was there by then. */
  private readonly firstArrived = new Map<string, number>()
  private readonly entityQueues = new Map<string, Promise<void>>()
  /** Changes are emitted in the order the PBX announced them, however their reads answer. */
  private readonly turns = new FeedTurns()
  /** Events that arrive while a snapshot is being fetched; null when none is. */
  private buffer: { events: ParticipantEvent[] } | null = null
  /** Bumped when a snapshot is requested: fetches begun before it are covered by it. */
  private epoch = 0
  /** Aborts the snapshot and participant fetches of the running feed on stop(). */
  private fetches = new AbortController()
  /** Aborts the participant fetches of the current epoch: a new snapshot covers them. */
  private epochFetches = new AbortController()
  private readyState!: { promise: Promise<void>, resolve: () => void, reject: (e: Error) => void, settled: boolean }
  /** Resolved when the next snapshot is applied (or the feed stops): what a failed read waits for. */
  private nextSnapshot = settledBy()
  /** Set by opened(): the next snapshot is a new link's, perhaps of a PBX that restarted. */
  private newLink = false
  private readonly reader: CallControlReader
  private readonly link: FeedLink
  private readonly clock: Clock
  private readonly logger: PbxLogger
  private readonly catchUpAfterMs: number
  private readonly resyncDelayMs: number

  constructor (private readonly opts: CallControlFeedOptions) {
    this.reader = opts.reader
    this.link = opts.link
    this.clock = opts.clock ?? systemClock
    this.logger = opts.logger ?? silentLogger
    this.catchUpAfterMs = opts.catchUpAfterMs ?? 1000
    this.resyncDelayMs = opts.resyncDelayMs ?? 500
    this.newReadyState()
  }

  /** Snapshots taken because participant fetches fell behind. */
  get catchUps (): number {
    return this._catchUps
  }

  start (): void {
    if (!this.stopped) return
    this.stopped = false
    if (this.readyState.settled) this.newReadyState()
    this.unseenSince = this.clock.now()
    this.fetches = new AbortController()
  }

  /** Aborts the reads, rejects a pending ready(), and waits for the events being handled. */
  async stop (): Promise<void> {
    this.stopped = true
    this.session++
    this.buffer = null
    this.snapshotRequestedAt = null
    this.fetches.abort(new Error('Call Control client stopped'))
    this.turns.reset()
    this.snapshotSettled()
    this.clock.clearTimeout(this.resyncTimer ?? undefined)
    this.resyncTimer = null
    if (!this.readyState.settled) {
      this.readyState.settled = true
      this.readyState.reject(new Error('Call Control client stopped before its first snapshot'))
    }
    await Promise.allSettled([...this.entityQueues.values()])
  }

  onChange (listener: ChangeListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Resolves once the first snapshot has been emitted (the same promise each time, so a late await cannot miss a rejection). */
  ready (): Promise<void> {
    return this.readyState.promise
  }

  /** The link opened: a snapshot first, events meanwhile after it. */
  opened (): void {
    if (this.stopped) return
    this.newLink = true
    void this.resync(++this.session)
  }

  /** One WebSocket message. */
  message (text: string): void {
    if (this.stopped) return
    const event = parseEventMessage(text)
    if (event === null) return
    event.receivedAt = this.clock.now()
    const key = `${event.dn}/${event.id}`
    if (event.kind === 'upsert') remember(this.upsertArrived, key, event.receivedAt, REMOVED_MEMORY)
    if (event.kind === 'upsert' && !this.firstArrived.has(key)) remember(this.firstArrived, key, event.receivedAt, REMOVED_MEMORY)
    if (event.kind === 'upsert' && this.buffer === null) this.catchUpIfBehind()
    if (this.buffer !== null) this.buffer.events.push(event)
    else this.apply(event)
    // A remove waits behind the reads too (applied in order): once queued, it may bring the catch-up
    // snapshot, which releases it at once (a hang-up behind a stuck read waited for the read's timeout).
    if (event.kind === 'remove' && this.buffer === null) this.catchUpIfBehind()
  }

  /** The link closed: blind until the snapshot after the reconnect. */
  closed (): void {
    if (this.stopped) return
    this.session++
    this.buffer = null
    this.firstArrived.clear() // the PBX may restart meanwhile and number participants anew
    this.unseenSince ??= Math.min(this.oldestPendingUpsert() ?? Infinity, this.clock.now())
    this.snapshotRequestedAt = null
  }

  /**
   * When the oldest change not yet known was announced (ms epoch): an upsert still being fetched,
   * or the request of the snapshot being fetched. Null when none is.
   */
  oldestPendingUpsert (): number | null {
    let oldest = this.snapshotRequestedAt === null ? null : this.snapshotCoversFrom
    for (const at of this.pendingUpserts.values()) {
      if (oldest === null || at < oldest) oldest = at
      break
    }
    return oldest
  }

  /**
   * Since when the feed cannot see the PBX: before its first snapshot, and from a lost link (or a
   * failed snapshot) until the next snapshot is applied. Null while it sees. Whatever ended
   * meanwhile is only known from that snapshot: a call's end waits for it, however long it takes.
   */
  blindSince (): number | null {
    return this.unseenSince
  }

  private newReadyState (): void {
    let resolve!: () => void
    let reject!: (e: Error) => void
    const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
    promise.catch(() => {})
    this.readyState = { promise, resolve, reject, settled: false }
  }

  /** Full snapshot → `resync`, then the events that arrived meanwhile. */
  private async resync (session: number): Promise<void> {
    const buffer = { events: [] as ParticipantEvent[] }
    this.buffer = buffer
    this.epoch++
    this.turns.reset()
    // Fetches still running or queued in the pool are covered by this snapshot: free the connections for it.
    this.epochFetches.abort(new Error('covered by a snapshot'))
    this.epochFetches = new AbortController()
    this.snapshotRequestedAt = this.clock.now()
    this.snapshotCoversFrom = this.snapshotRequestedAt
    for (const at of this.pendingUpserts.values()) { this.snapshotCoversFrom = Math.min(at, this.snapshotRequestedAt); break }
    let dns: DNInfo[]
    try {
      dns = await this.reader.snapshot(this.fetches.signal)
    } catch (err) {
      if (this.buffer === buffer) {
        this.unseenSince ??= this.snapshotCoversFrom ?? this.clock.now()
        this.buffer = null
        this.snapshotRequestedAt = null
      }
      if (session !== this.session || this.stopped) return
      this.logger.warn({ api: 'callcontrol', err: errText(err) }, 'Call Control snapshot failed; reconnecting')
      this.link.drop()
      return
    }
    if (this.buffer !== buffer || session !== this.session) return
    this.dnTypes = new Map(dns.map((d) => [d.dn, d.type]))
    const present = keysOf(dns)
    // Only on the link whose every event was received: before a new link opened, changes went unseen.
    const removedAt = this.newLink ? undefined : removedWhileRead(buffer.events, present, this.unread, this.queuedUpserts)
    this.unread.clear() // the snapshot read them all (a participant missing from it is gone)
    this.lastEmitted = new Map()
    // After a reconnect the PBX may have restarted and numbers participants from 1 again: an id
    // removed before is no reason to ignore a participant now. A participant in a snapshot is alive.
    if (this.newLink) this.removed.clear()
    this.newLink = false
    for (const d of dns) {
      for (const p of d.participants ?? []) {
        this.lastEmitted.set(`${p.dn}/${p.id}`, JSON.stringify(p))
        this.removed.delete(`${p.dn}/${p.id}`)
      }
    }
    this.opts.synced?.()
    const firstEvents = firstEventsOf(this.firstArrived, present, this.snapshotRequestedAt ?? this.clock.now())
    this.emit({ kind: 'resync', dns, at: this.clock.now(), ...(firstEvents === undefined ? {} : { firstEvents }), ...(removedAt === undefined ? {} : { removedAt }) })
    this.unseenSince = null
    if (!this.readyState.settled) { this.readyState.settled = true; this.readyState.resolve() }
    // Fetches of changes announced before the snapshot was requested cannot tell anything newer.
    const requestedAt = this.snapshotRequestedAt ?? -Infinity
    for (const [token, at] of this.pendingUpserts) {
      if (at > requestedAt) break
      this.pendingUpserts.delete(token)
    }
    this.buffer = null
    this.snapshotRequestedAt = null
    this.snapshotApplied = this.clock.now()
    this.snapshotSettled()
    for (const e of buffer.events) this.apply(e)
  }

  /** Releases the reads waiting for a snapshot (see process()). */
  private snapshotSettled (): void {
    this.nextSnapshot.resolve()
    this.nextSnapshot = settledBy()
  }

  /** A fetch failed for another reason than 404: the model may have missed a change, take a snapshot soon. */
  private resyncSoon (): void {
    if (this.resyncTimer !== null || !this.link.connected) return
    const session = this.session
    this.resyncTimer = this.clock.setTimeout(() => {
      this.resyncTimer = null
      if (session === this.session && this.buffer === null) void this.resync(session)
    }, this.resyncDelayMs)
  }

  /** Queues the event behind earlier ones for the same participant. */
  private apply (event: ParticipantEvent): void {
    const key = `${event.dn}/${event.id}`
    if (event.kind === 'upsert') {
      // A queued fetch that has not begun will read this change too.
      if (this.queuedUpserts.has(key)) return
      this.queuedUpserts.add(key)
    }
    const prev = this.entityQueues.get(key) ?? Promise.resolve()
    const token = {}
    const announced = { at: event.receivedAt ?? this.clock.now(), epoch: this.epoch }
    if (event.kind === 'upsert') this.pendingUpserts.set(token, announced.at)
    const { turn, release } = this.turns.take()
    const next = prev.then(async () => {
      if (event.kind === 'upsert') this.queuedUpserts.delete(key)
      // A snapshot requested after the change was announced holds it (or a newer state).
      if (event.kind === 'upsert' && announced.epoch !== this.epoch) { this.leftToSnapshot(key); return }
      await this.process(event, key, this.epoch, turn, release)
    }).catch((err: unknown) => {
      this.logger.error({ api: 'callcontrol', err: errText(err) }, 'Call Control event handling failed')
    }).finally(() => {
      this.pendingUpserts.delete(token)
      release()
    })
    this.entityQueues.set(key, next)
    void next.then(() => { if (this.entityQueues.get(key) === next) this.entityQueues.delete(key) })
  }

  /** `turn`: resolved when the events before this one are emitted; `release`: this one's turn is over. */
  private async process (event: ParticipantEvent, key: string, epoch: number, turn: Promise<void>, release: () => void): Promise<void> {
    if (this.removed.has(key)) return
    if (event.kind === 'remove') {
      await turn
      // Dated by its event: the changes announced before it have all been emitted (their turns came first).
      if (!this.stopped && !this.removed.has(key)) this.emitRemove(event, key, this.unread.has(key), event.receivedAt)
      return
    }
    let participant: CallParticipant
    try {
      participant = await this.reader.participant(event.dn, event.id, AbortSignal.any([this.fetches.signal, this.epochFetches.signal]))
    } catch (err) {
      if (this.stopped) return
      if (epoch !== this.epoch) { this.leftToSnapshot(key); return }
      if (err instanceof PbxError && err.code === 'PBX_NOT_FOUND') {
        await turn
        if (epoch !== this.epoch || this.stopped) { this.leftToSnapshot(key); return }
        this.emitRemove(event, key, true)
        return
      }
      this.unread.add(key)
      this.logger.warn({ api: 'callcontrol', err: errText(err) }, 'Call Control: fetching a participant failed; taking a new snapshot')
      this.resyncSoon()
      // The change stays pending until the snapshot that replaces the read is applied: a call's end
      // keeps waiting for it, and this participant's next change (a remove) is not applied first.
      // Other participants' changes go on meanwhile (the snapshot will hold this one's state).
      release()
      await this.nextSnapshot.promise
      return
    }
    await turn
    // A snapshot requested after this fetch began already holds this state or a newer one.
    if (epoch !== this.epoch || this.stopped) { this.leftToSnapshot(key); return }
    if (typeof participant !== 'object' || participant === null) return
    this.unread.delete(key)
    const json = JSON.stringify(participant)
    if (this.lastEmitted.get(key) === json) return
    this.lastEmitted.set(key, json)
    const dnType = this.dnTypes.get(participant.dn ?? event.dn) ?? this.dnTypes.get(event.dn) ?? 'None'
    // Dated by its event (never later than now), as a remove is (docs/webhooks.md).
    this.emit({ kind: 'upsert', participant, dnType, at: Math.min(this.upsertArrived.get(key) ?? Infinity, this.clock.now()) })
  }

  /**
   * The fetches fell behind: one snapshot replaces the backlog (see catchUpAfterMs). Reads of changes
   * that waited for a snapshot begin once it is applied: they are behind only from then, or every slow
   * snapshot would be followed by another (measured under load: one every 1.1 s, the feed blind throughout).
   */
  private catchUpIfBehind (): void {
    if (this.buffer !== null || this.resyncTimer !== null || !this.link.connected) return
    let oldest: number | undefined
    for (const at of this.pendingUpserts.values()) { oldest = at; break }
    if (oldest === undefined || this.clock.now() - Math.max(oldest, this.snapshotApplied) < this.catchUpAfterMs) return
    this._catchUps++
    this.logger.warn({ api: 'callcontrol', behindMs: this.clock.now() - oldest, pending: this.pendingUpserts.size }, 'Call Control: participant fetches fell behind; taking a snapshot instead')
    void this.resync(this.session)
  }

  /** A change of the participant is left to the snapshot: unread until that snapshot is applied (after it, it was read). */
  private leftToSnapshot (key: string): void {
    if (this.snapshotRequestedAt !== null) this.unread.add(key)
  }

  /** `uncertain`: the participant's last announced change was never read (see ParticipantChange). `arrived`: when its remove event came. */
  private emitRemove (event: ParticipantEvent, key: string, uncertain = false, arrived?: number): void {
    this.unread.delete(key)
    this.lastEmitted.delete(key)
    this.removed.add(key)
    this.upsertArrived.delete(key)
    this.firstArrived.delete(key)
    if (this.removed.size > REMOVED_MEMORY) this.removed.delete(this.removed.values().next().value as string)
    const at = Math.min(arrived ?? Infinity, this.clock.now())
    this.emit(uncertain ? { kind: 'remove', dn: event.dn, id: event.id, at, uncertain } : { kind: 'remove', dn: event.dn, id: event.id, at })
  }

  private emit (change: ParticipantChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change)
      } catch (err) {
        this.logger.error({ api: 'callcontrol', err: errText(err) }, 'a Call Control change listener threw')
      }
    }
  }
}
