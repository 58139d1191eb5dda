// Every leg the engine has announced, by DN and by participant id: what Call Control serves, the
// upsert/remove events it sends, and the history segment each leg closes when it changes party or
// goes away.
import type { CallParticipant, ParticipantStatus } from '../../pbx/callcontrol-types.js'
import type { SimCallRecord } from '../sim-types.js'
import type { Call, Leg, LegRole } from './live-call.js'
import { deviceIdOf, EMPTY_FIELDS, facingFields, simParty, type Party } from './party.js'
import type { Recorder } from './recorder.js'

export type ParticipantEvent =
  | { type: 'upsert' | 'remove', participant: CallParticipant }
  /** The caller pressed keys on a call a route point has answered (Call Control event 2). */
  | { type: 'dtmf', participant: CallParticipant, digits: string }
  /** A prompt the application streamed into the leg has played to its end (event 3). */
  | { type: 'promptFinished', participant: CallParticipant }
export type ParticipantListener = (e: ParticipantEvent) => void

type Segment = SimCallRecord['segments'][number]

export class LegBook {
  private readonly byDn = new Map<string, Map<number, CallParticipant>>()
  private readonly index = new Map<number, { call: Call, leg: Leg }>()
  private readonly listeners = new Set<ParticipantListener>()
  private nextPid = 1
  private nextSegmentId = 1

  constructor (private readonly recorder: Recorder) {}

  participants (dn?: string): CallParticipant[] {
    if (dn !== undefined) return [...(this.byDn.get(dn)?.values() ?? [])].map((p) => ({ ...p }))
    const out: CallParticipant[] = []
    for (const m of this.byDn.values()) for (const p of m.values()) out.push({ ...p })
    return out
  }

  participant (dn: string, id: number): CallParticipant | undefined {
    const p = this.byDn.get(dn)?.get(id)
    return p === undefined ? undefined : { ...p }
  }

  /** The announced leg `id` of DN `dn`, with its call. */
  find (dn: string, id: number): { call: Call, leg: Leg } | undefined {
    const found = this.index.get(id)
    return found !== undefined && found.leg.p.dn === dn ? found : undefined
  }

  onEvent (listener: ParticipantListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Forgets every leg without a word (simulator shutdown). */
  clear (): void {
    this.byDn.clear()
    this.index.clear()
  }

  /** A leg of the call, not announced yet (the caller's, until it faces someone). */
  newLeg (call: Call, self: Party, role: LegRole, status: ParticipantStatus, facing: Party, extra: Partial<CallParticipant>): Leg {
    const id = this.nextPid++
    self.pid = id
    const p: CallParticipant = {
      ...EMPTY_FIELDS,
      id,
      status,
      dn: self.dn,
      device_id: self.kind === 'extension' || self.kind === 'routepoint' ? deviceIdOf(self.dn) : '',
      ...facingFields(self, facing),
      ...extra,
      callid: call.callid,
      legid: ++call.legCounter
    }
    const now = Date.now()
    const leg: Leg = {
      p, self, facing, role, inStore: false, segStart: now,
      connectedAt: status === 'Connected' ? now : null,
      recordable: role === 'target' && self.kind === 'extension',
      promptEndsAt: 0,
      attachedData: {}
    }
    call.legs.set(id, leg)
    return leg
  }

  /** A new leg, announced at once. */
  addLeg (call: Call, self: Party, role: LegRole, status: ParticipantStatus, facing: Party, extra: Partial<CallParticipant>): Leg {
    const leg = this.newLeg(call, self, role, status, facing, extra)
    this.store(call, leg)
    return leg
  }

  setStatus (leg: Leg, status: ParticipantStatus): void {
    if (leg.p.status === status) return
    leg.p.status = status
    if (status === 'Connected' && leg.connectedAt === null) leg.connectedAt = Date.now()
    if (leg.inStore) this.emit('upsert', leg.p)
  }

  /** Points a leg at another party (and optionally a new status); announces the leg if it is new. */
  setFacing (call: Call, leg: Leg, other: Party, status?: ParticipantStatus): void {
    if (leg.facing.dn !== other.dn && leg.role === 'target' && leg.connectedAt !== null) this.closeSegment(call, leg, 'consult')
    leg.facing = other
    const fields = facingFields(leg.self, other)
    let changed = false
    for (const [k, v] of Object.entries(fields) as Array<[keyof typeof fields, string]>) {
      if (leg.p[k] !== v) { leg.p[k] = v; changed = true }
    }
    if (status !== undefined && leg.p.status !== status) {
      leg.p.status = status
      if (status === 'Connected' && leg.connectedAt === null) leg.connectedAt = Date.now()
      changed = true
    }
    if (!leg.inStore) this.store(call, leg)
    else if (changed) this.emit('upsert', leg.p)
  }

  /** Takes the leg out of its call: a remove event, its history segment, its recording. */
  removeLeg (call: Call, leg: Leg, action: string): void {
    if (!call.legs.delete(leg.p.id)) return
    if (leg.inStore) {
      const m = this.byDn.get(leg.p.dn)
      m?.delete(leg.p.id)
      if (m !== undefined && m.size === 0) this.byDn.delete(leg.p.dn)
      this.index.delete(leg.p.id)
      this.emit('remove', leg.p)
    }
    const segmentAction = leg.connectedAt !== null && leg.role === 'target' && action !== 'transferred' ? 'answered' : action
    const segment = leg.role === 'target' || leg.role === 'route' ? this.closeSegment(call, leg, segmentAction) : null
    if (call.plan.record && leg.recordable && leg.connectedAt !== null) this.recorder.schedule(call, leg, segment)
  }

  /** Tells the listeners about something that happened on a leg without changing it. */
  signal (leg: Leg, event: { type: 'dtmf', digits: string } | { type: 'promptFinished' }): void {
    if (leg.inStore) this.send({ ...event, participant: { ...leg.p } })
  }

  private store (call: Call, leg: Leg): void {
    leg.inStore = true
    let m = this.byDn.get(leg.p.dn)
    if (m === undefined) { m = new Map(); this.byDn.set(leg.p.dn, m) }
    m.set(leg.p.id, leg.p)
    this.index.set(leg.p.id, { call, leg })
    this.emit('upsert', leg.p)
  }

  private closeSegment (call: Call, leg: Leg, action: string): Segment {
    const now = Date.now()
    const answered = leg.role === 'target' && leg.connectedAt !== null
    const segment: Segment = {
      segmentId: this.nextSegmentId++,
      callid: call.callid,
      startedAt: new Date(leg.segStart),
      endedAt: new Date(now),
      answered,
      talkMs: answered ? now - Math.max(leg.segStart, leg.connectedAt ?? now) : 0,
      src: simParty(leg.facing),
      dst: simParty(leg.self),
      action,
      recordingIds: []
    }
    call.record.segments.push(segment)
    leg.segStart = now
    return segment
  }

  private emit (type: 'upsert' | 'remove', p: CallParticipant): void {
    this.send({ type, participant: { ...p } })
  }

  private send (event: ParticipantEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // A failing subscriber must not break the call flow.
      }
    }
  }
}
