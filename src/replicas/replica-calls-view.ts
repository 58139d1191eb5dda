// The live call model as the API sees it on a replica (routes use CallModelView): the holder of the
// PBX's stream answers from its own call model and publishes it (a live view); a standby answers
// pbx.calls.get, pbx.ac.get, pbx.callsinfo.get, ext.state.get… from the holder's last published view,
// refreshed on every change (PostgreSQL LISTEN/NOTIFY: store/pg/pg-live-views.ts). A standby's
// answer is therefore as old as the last publication (about 100 ms behind the holder).
import type { CallModelView, LiveCall } from '../calls/live-call.js'

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

  constructor (private readonly own: CallModelView & { onChange: (l: () => void) => () => void }, private readonly standby: () => boolean, private readonly channel: LiveViewChannel, private readonly log?: { warn: (o: object, m: string) => void }) {
    own.onChange(() => { if (!this.standby()) this.changed() })
  }

  list (): readonly LiveCall[] { return this.standby() ? this.published.calls : this.own.list() }
  size (): number { return this.standby() ? this.published.calls.length : this.own.size() }
  isBusy (dn: string): boolean { return this.standby() ? this.busy.has(dn) : this.own.isBusy(dn) }
  isTalking (dn: string): boolean { return this.standby() ? this.talking.has(dn) : this.own.isTalking(dn) }
  /** A standby's makecall registers the call in its own (unused) model: see docs/operating.md. */
  reserve (callid: number, at: number): { chid: string, legacyId: string } { return this.own.reserve(callid, at) }

  onChange (listener: () => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  private changed (): void {
    for (const l of this.listeners) l()
  }

  /** Standby: follows the holder's publications. */
  async follow (): Promise<void> {
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
  }
}
