// The live call model as the API sees it on a replica (routes use CallModelView): the holder of the
// PBX's stream answers from its own call model and publishes it (a live view); a standby answers
// pbx.calls.get, pbx.ac.get, pbx.callsinfo.get, ext.state.get… from the holder's last published view,
// refreshed on every change (PostgreSQL LISTEN/NOTIFY: store/pg/pg-live-views.ts). A standby's
// answer is therefore as old as the last publication (about 100 ms behind the holder).
import type { CallModelView, LiveCall } from '../calls/live-call.js'
import { CALL_ID_WAIT_MS, type CallIdChannel, type CallIds } from './call-id-requests.js'

/** What the holder publishes of its call model. */
export interface PublishedCalls { calls: LiveCall[], at: number }

/** Where live views go (the holder) and come from (standbys). */
export interface LiveViewChannel {
  publish: (view: PublishedCalls) => Promise<void>
  /** Calls `on` with the current view and every later one; returns the stop. */
  follow: (on: (view: PublishedCalls) => void) => Promise<() => Promise<void>>
}

const PUBLISH_EVERY_MS = 100

export class ReplicaCallsView implements CallModelView {
  private published: PublishedCalls = { calls: [], at: 0 }
  private busy = new Set<string>()
  private talking = new Set<string>()
  private readonly listeners = new Set<() => void>()
  private timer: NodeJS.Timeout | null = null
  private stopFollowing: (() => Promise<void>) | null = null
  private unsubscribe: (() => void) | null = null
  private stopServing: Promise<() => Promise<void>> | null = null

  constructor (private readonly own: Omit<CallModelView, 'reserve'> & { onChange: (l: () => void) => () => void, reserve: (callid: number, at: number) => CallIds }, private readonly standby: () => boolean, private readonly channel: LiveViewChannel, private readonly log?: { warn: (o: object, m: string) => void }, private readonly ids?: { channel: CallIdChannel, holderKnown: () => boolean, waitMs?: number }) {
    own.onChange(() => { if (!this.standby()) this.changed() })
  }

  list (): readonly LiveCall[] { return this.standby() ? this.published.calls : this.own.list() }
  size (): number { return this.standby() ? this.published.calls.length : this.own.size() }
  isBusy (dn: string): boolean { return this.standby() ? this.busy.has(dn) : this.own.isBusy(dn) }
  isTalking (dn: string): boolean { return this.standby() ? this.talking.has(dn) : this.own.isTalking(dn) }
  /** A standby asks the holder, whose model announces the call's webhooks (call-id-requests.ts). */
  reserve (callid: number, at: number): CallIds | Promise<CallIds | null> {
    if (!this.standby() || this.ids === undefined) return this.own.reserve(callid, at)
    return this.ids.channel.request(callid, at, this.ids.waitMs ?? CALL_ID_WAIT_MS)
  }

  canReserve (): boolean { return !this.standby() || this.ids === undefined || this.ids.holderKnown() }

  onChange (listener: () => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  private changed (): void {
    for (const l of this.listeners) l()
  }

  /** Standby: follows the holder's publications. */
  async follow (): Promise<void> {
    await this.stopServingIds()
    this.stopFollowing ??= await this.channel.follow((view) => {
      this.published = view
      this.busy = new Set(view.calls.flatMap((c) => c.legs.map((l) => l.dn)))
      this.talking = new Set(view.calls.flatMap((c) => c.legs.filter((l) => l.status === 'Connected').map((l) => l.dn)))
      if (this.standby()) this.changed()
    })
  }

  /** Holder: publishes its call model at most every 100 ms while it changes, and once now. */
  lead (): void {
    void this.stopFollowing?.()
    this.stopFollowing = null
    this.unsubscribe ??= this.own.onChange(() => { this.schedule() })
    this.schedule()
    if (this.ids !== undefined && this.stopServing === null) {
      const serving = this.ids.channel.serve((callid, at) => this.own.reserve(callid, at))
      serving.catch((err: unknown) => {
        this.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'answering the standbys\' makecall ids failed to start; their makecalls answer 503 until it does')
      })
      this.stopServing = serving
    }
  }

  /** Holder no more (its stream closed): its stopped model must not answer the standbys' makecalls. */
  async stopServingIds (): Promise<void> {
    const stop = this.stopServing
    this.stopServing = null
    if (stop !== null) await (await stop.catch(() => async () => {}))()
  }

  private schedule (): void {
    if (this.timer !== null) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.channel.publish({ calls: [...this.own.list()], at: Date.now() }).catch((err: unknown) => {
        this.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'publishing the live call view failed; standbys answer from the previous one until the next change')
      })
    }, PUBLISH_EVERY_MS)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    this.unsubscribe?.()
    this.unsubscribe = null
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    await this.stopFollowing?.()
    this.stopFollowing = null
    await this.stopServingIds()
    await this.ids?.channel.close()
  }
}
