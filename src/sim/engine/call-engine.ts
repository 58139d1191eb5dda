// The simulator's call engine: one model of calls and their legs (Call Control participants), from
// which the WebSocket events, CallHistoryView segments, reports and recordings are all derived.
// Calls play out in real time on timers; every timer belongs to a call (or to a pending recording)
// and is cleared by stop() and reset(). The participant sequences it produces are the contract in
// docs/DEVELOPING.md "Participant sequences".
import path from 'node:path'
import type { CallControlDnType, CallParticipant, ParticipantStatus } from '../../pbx/callcontrol-types.js'
import type { SimContext } from '../sim-context.js'
import type { SimCallRecord, SimDirectory, SimDnKind, SimParty, SimRecording } from '../sim-types.js'
import { callToneHz, writeWavFile } from '../wav.js'
import {
  MAKECALL_ANSWER_MS, MAKECALL_GIVE_UP_MS, planMakeCall, planScript, SimScriptError,
  type CallPlan, type CallScript, type TransferPlan
} from './call-script.js'
import { dnType, findDn, findUser, groupMembers, unreachableReason } from './dn-lookup.js'
import { recordingRelativePath } from './recording-files.js'
import { randomInt, seededRandom, type Random } from './seeded-random.js'

export { SimScriptError } from './call-script.js'
export type { CallScript } from './call-script.js'

export interface CallEngineOptions { ctx: SimContext }

export interface ParticipantEvent { type: 'upsert' | 'remove', participant: CallParticipant }
export type ParticipantListener = (e: ParticipantEvent) => void

/** What GET /_sim/calls/{callid} shows. */
export interface CallStatus {
  callid: number
  chain: string
  status: SimCallRecord['status']
  kind: SimCallRecord['kind']
  from: string
  to: string
  startedAt: string
  answeredAt: string | null
  endedAt: string | null
  answeredBy: string | null
  legs: CallParticipant[]
  queue: SimCallRecord['queue']
  transfers: SimCallRecord['transfers']
  recordings: Array<{ id: number, dn: string, file: string }>
}

/** A participant action the current leg state does not allow (Call Control answers 422). */
export class SimActionError extends Error {
  override name = 'SimActionError'
}

/** The engine keeps this many ended calls (plus every active one). */
export const ENDED_RECORDS_LIMIT = 50_000
const CALLID_START = 1000
/** How long the caller listens to the IVR prompt before pressing the digit. */
const IVR_MENU_MS = 300
/** Between the consultation answer and the completion of an attended transfer. */
const ATTENDED_COMPLETE_MS = 300
/** Recordings appear this long after their leg ends (3CX writes them after the call). */
const RECORDING_DELAY_MS: readonly [number, number] = [200, 2000]

/** How a leg looks to the others (party_* fields), and what history shows for it. */
interface Party {
  dn: string
  kind: SimDnKind
  type: CallControlDnType
  /** Caller number as others see it: the external number for trunk legs, else the DN. */
  number: string
  name: string
  pid: number
}

type LegRole = 'caller' | 'route' | 'target' | 'consult'

interface Leg {
  p: CallParticipant
  self: Party
  /** The party this leg faces (its party_* fields). */
  facing: Party
  role: LegRole
  inStore: boolean
  segStart: number
  connectedAt: number | null
  recordable: boolean
}

interface Call {
  callid: number
  plan: CallPlan
  record: SimCallRecord
  legs: Map<number, Leg>
  timers: Set<NodeJS.Timeout>
  ended: boolean
  legCounter: number
  caller: Leg
  talker: Leg | null
  /** Mutable copies of the plan's answer rules (divert and transferto change them). */
  answer: string | null
  ringMs: number
  giveUpMs: number
  giveUpScheduled: boolean
  transferDone: boolean
  overflowDone: boolean
  queueEnteredAt: number
}

const EMPTY_FIELDS = {
  party_caller_name: '',
  party_dn: '',
  party_caller_id: '',
  party_did: '',
  device_id: '',
  party_dn_type: 'None',
  direct_control: false,
  originated_by_dn: '',
  originated_by_type: 'None',
  referred_by_dn: '',
  referred_by_type: 'None',
  on_behalf_of_dn: '',
  on_behalf_of_type: 'None'
} as const

const FROM_ROUTER = { originated_by_dn: 'ROUTER', originated_by_type: 'Wroutepoint' } as const

/** The SIP contact of an extension's (single) simulated phone. */
export function deviceIdOf (dn: string): string {
  return `sip:${dn}@127.0.0.1:${5060 + (Number(dn) % 1000)}`
}

/** party_* fields of a leg `self` facing `other`. Trunk legs always show the external number. */
function facingFields (self: Party, other: Party): Pick<CallParticipant, 'party_dn' | 'party_dn_type' | 'party_caller_id' | 'party_caller_name'> {
  if (self.kind === 'externalline') {
    return { party_dn: other.dn, party_dn_type: other.type, party_caller_id: self.number, party_caller_name: '' }
  }
  return {
    party_dn: other.dn,
    party_dn_type: other.type,
    party_caller_id: other.number,
    party_caller_name: other.kind === 'extension' ? other.name : ''
  }
}

function simParty (p: Party): SimParty {
  return { dn: p.dn, kind: p.kind, displayName: p.name, callerNumber: p.number, participantId: p.pid }
}

function chainOf (callid: number, at: Date): string {
  return `${at.toISOString().replace(/[-:T]/g, '').slice(2, 14)}_${callid}`
}

export class CallEngine {
  private readonly ctx: SimContext
  private readonly calls = new Map<number, Call>()
  private recordList: SimCallRecord[] = []
  private readonly byDn = new Map<string, Map<number, CallParticipant>>()
  private readonly legIndex = new Map<number, { call: Call, leg: Leg }>()
  private readonly listeners = new Set<ParticipantListener>()
  private readonly recordingTimers = new Set<NodeJS.Timeout>()
  private readonly resetListeners = new Set<() => void>()
  private nextCallid = CALLID_START
  private nextPid = 1
  private nextSegmentId = 1
  private nextRecordingId = 1
  private random: Random

  constructor (readonly options: CallEngineOptions) {
    this.ctx = options.ctx
    this.random = seededRandom(this.ctx.seed)
  }

  private get dir (): SimDirectory { return this.ctx.directory }

  // ---- public surface ------------------------------------------------------------------------

  /** Every call the engine has played or is playing, oldest first (the last 50,000 ended ones). */
  records (): readonly SimCallRecord[] { return this.recordList }

  /** Number of calls in progress. */
  activeCalls (): number { return this.calls.size }

  /** Validates the script (SimScriptError when it cannot be played) and starts the call. */
  startCall (script: CallScript): { callid: number, chain: string } {
    const call = this.begin(planScript(this.dir, script))
    return { callid: call.callid, chain: call.record.chain }
  }

  /** XAPI Users/Pbx.MakeCall and Call Control makecall: returns the caller's own new leg. */
  makeCall (dn: string, destination: string): CallParticipant {
    const call = this.begin(planMakeCall(this.dir, dn, destination))
    return { ...call.caller.p }
  }

  dropCall (callid: number): boolean {
    const call = this.calls.get(callid)
    if (call === undefined) return false
    this.endCall(call, 'dropped')
    return true
  }

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

  onParticipantEvent (listener: ParticipantListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Called after every reset (the Call Control event log clears itself). */
  onReset (listener: () => void): () => void {
    this.resetListeners.add(listener)
    return () => { this.resetListeners.delete(listener) }
  }

  callStatus (callid: number): CallStatus | null {
    const record = this.recordList.find((r) => r.callid === callid)
    if (record === undefined) return null
    const call = this.calls.get(callid)
    const iso = (d: Date | null): string | null => d === null ? null : d.toISOString()
    return {
      callid,
      chain: record.chain,
      status: record.status,
      kind: record.kind,
      from: record.from,
      to: record.to,
      startedAt: record.startedAt.toISOString(),
      answeredAt: iso(record.answeredAt),
      endedAt: iso(record.endedAt),
      answeredBy: record.answeredBy,
      legs: call === undefined ? [] : [...call.legs.values()].filter((l) => l.inStore).map((l) => ({ ...l.p })),
      queue: record.queue,
      transfers: record.transfers,
      recordings: record.recordings.map((r) => ({ id: r.Id, dn: r.dn, file: r.relativePath }))
    }
  }

  /** Call Control `drop`: a ringing queue/ring-group member leg just stops ringing; anything else ends the call. */
  dropParticipant (dn: string, id: number): boolean {
    const found = this.find(dn, id)
    if (found === undefined) return false
    const { call, leg } = found
    if (leg.role === 'target' && leg.p.status === 'Ringing' && leg.p.on_behalf_of_dn !== '') {
      this.removeLeg(call, leg, 'rejected')
      if (call.answer === leg.p.dn) {
        call.answer = null
        this.scheduleGiveUp(call)
      }
      return true
    }
    this.endCall(call, 'dropped')
    return true
  }

  /** Call Control `answer` (the plugin checks direct_control first). */
  answerParticipant (dn: string, id: number): CallParticipant {
    const { call, leg } = this.mustFind(dn, id)
    if (leg.p.status !== 'Ringing' || leg.role !== 'target') throw new SimActionError(`participant ${id} is ${leg.p.status}, only a ringing participant can be answered`)
    this.answer(call, leg)
    return { ...leg.p }
  }

  /** Call Control `divert`: a ringing call goes to another internal destination instead. */
  divertParticipant (dn: string, id: number, destination: string): CallParticipant {
    const { call, leg } = this.mustFind(dn, id)
    if (leg.p.status !== 'Ringing' || leg.role === 'caller') throw new SimActionError(`participant ${id} is ${leg.p.status}; divert works only while it rings`)
    const dest = this.internalDestination(destination, ['extension', 'queue', 'ringgroup', 'ivr'])
    if (dest.dn === call.caller.self.dn) throw new SimScriptError('a call cannot be diverted to its caller')
    const snapshot = { ...leg.p }
    this.clearCallTimers(call)
    for (const l of [...call.legs.values()]) {
      if (l.role === 'target' || l.role === 'route') this.removeLeg(call, l, l === leg ? 'diverted' : 'missed')
    }
    call.answer = this.autoAnswerer(dest.dn)
    call.ringMs = MAKECALL_ANSWER_MS
    call.giveUpMs = MAKECALL_GIVE_UP_MS
    call.overflowDone = true
    this.deliver(call, dest.dn, false)
    return snapshot
  }

  /** Call Control `transferto`: blind transfer of the caller by the connected extension leg. */
  transferParticipant (dn: string, id: number, destination: string): CallParticipant {
    const { call, leg } = this.mustFind(dn, id)
    if (leg.p.status !== 'Connected' || leg !== call.talker) {
      throw new SimActionError(`participant ${id} is ${leg.p.status === 'Connected' ? 'not the answering extension of the call' : leg.p.status}; transferto works on the connected extension leg`)
    }
    const dest = this.internalDestination(destination, ['extension'])
    if (dest.dn === dn) throw new SimScriptError('a call cannot be transferred to the extension that has it')
    const snapshot = { ...leg.p }
    const answers = unreachableReason(this.dir, dest.dn) === null
    this.clearCallTimers(call)
    this.transfer(call, { kind: 'blind', to: dest.dn, afterMs: 0, answer: answers, ringMs: answers ? MAKECALL_ANSWER_MS : MAKECALL_GIVE_UP_MS })
    return snapshot
  }

  /** Ends every call (emitting removes), forgets all records and pending recordings. */
  reset (): void {
    for (const call of [...this.calls.values()]) this.endCall(call, 'dropped')
    this.clearRecordingTimers()
    this.recordList = []
    this.random = seededRandom(this.ctx.seed)
    for (const listener of this.resetListeners) listener()
  }

  /** Stops every timer without emitting anything (simulator shutdown). */
  stop (): void {
    for (const call of this.calls.values()) {
      this.clearCallTimers(call)
      call.ended = true
    }
    this.calls.clear()
    this.byDn.clear()
    this.legIndex.clear()
    this.clearRecordingTimers()
  }

  // ---- call set-up ---------------------------------------------------------------------------

  private begin (plan: CallPlan): Call {
    const callid = this.nextCallid++
    const startedAt = new Date()
    const record: SimCallRecord = {
      callid,
      chain: chainOf(callid, startedAt),
      kind: plan.kind,
      from: plan.caller.number,
      to: plan.kind === 'inbound' ? plan.did : plan.target,
      did: plan.did,
      ruleName: plan.ruleName,
      startedAt,
      answeredAt: null,
      endedAt: null,
      answeredBy: null,
      queue: null,
      transfers: [],
      segments: [],
      recordings: [],
      status: 'ringing'
    }
    const callerSelf: Party = {
      dn: plan.caller.dn,
      kind: plan.caller.kind,
      type: dnType(plan.caller.kind),
      number: plan.caller.number,
      name: plan.caller.name,
      pid: 0
    }
    const call: Call = {
      callid,
      plan,
      record,
      legs: new Map(),
      timers: new Set(),
      ended: false,
      legCounter: 0,
      caller: undefined as unknown as Leg,
      talker: null,
      answer: plan.answer,
      ringMs: plan.ringMs,
      giveUpMs: plan.giveUpMs,
      giveUpScheduled: false,
      transferDone: false,
      overflowDone: false,
      queueEnteredAt: 0
    }
    this.calls.set(callid, call)
    this.recordList.push(record)
    const callerStatus: ParticipantStatus = plan.kind === 'inbound' ? 'Ringing' : 'Dialing'
    // The caller leg is announced when it first faces someone (deliver / outbound below).
    call.caller = this.newLeg(call, callerSelf, 'caller', callerStatus, callerSelf, {})
    call.caller.recordable = plan.kind === 'outbound' && plan.caller.kind === 'extension'
    if (plan.kind === 'outbound') this.dialOut(call)
    else this.deliver(call, plan.target, plan.kind === 'inbound')
    return call
  }

  private dialOut (call: Call): void {
    const trunk: Party = { dn: this.trunkDn(), kind: 'externalline', type: 'Wexternalline', number: call.plan.target, name: '', pid: 0 }
    this.setFacing(call, call.caller, trunk)
    const trunkLeg = this.addLeg(call, trunk, 'target', 'Dialing', call.caller.self, {})
    if (call.answer === 'remote') this.after(call, call.ringMs, () => { this.answer(call, trunkLeg) })
    else this.scheduleGiveUp(call)
  }

  /** Routes the call to an internal DN (extension, queue, ring group, IVR). */
  private deliver (call: Call, dn: string, fromRouter: boolean): void {
    const entry = findDn(this.dir, dn)
    if (entry === undefined || !['extension', 'queue', 'ringgroup', 'ivr'].includes(entry.kind)) {
      this.endCall(call, 'failed') // the directory changed under a running call
      return
    }
    const self: Party = { dn: entry.dn, kind: entry.kind, type: entry.type, number: entry.dn, name: entry.name, pid: 0 }
    const origin = fromRouter ? FROM_ROUTER : {}
    if (entry.kind === 'extension') {
      this.setFacing(call, call.caller, self)
      if (unreachableReason(this.dir, dn) === null) {
        const leg = this.addLeg(call, self, 'target', 'Ringing', call.caller.self, origin)
        if (call.answer === dn) {
          this.after(call, call.ringMs, () => { this.answer(call, leg) })
          return
        }
      }
      this.scheduleGiveUp(call)
      return
    }
    if (entry.kind === 'ringgroup') {
      this.setFacing(call, call.caller, self)
      const leg = this.addLeg(call, self, 'route', 'Ringing', call.caller.self, origin)
      if (!this.ringMembers(call, leg)) this.scheduleGiveUp(call)
      return
    }
    // Queues and IVRs "answer" at once (music on hold, prompt): Connected, but not an answer.
    if (call.caller.p.status !== 'Connected') this.setFacing(call, call.caller, self)
    const leg = this.addLeg(call, self, 'route', 'Connected', call.caller.self, origin)
    this.setFacing(call, call.caller, self, 'Connected')
    if (entry.kind === 'ivr') this.playMenu(call, leg, fromRouter)
    else this.enterQueue(call, leg, fromRouter)
  }

  private playMenu (call: Call, ivrLeg: Leg, fromRouter: boolean): void {
    const digit = call.plan.menu
    const fwd = this.dir.receptionists.find((r) => r.Number === ivrLeg.self.dn)?.Forwards.find((f) => f.Input === digit)
    if (digit === null || fwd === undefined) {
      this.scheduleGiveUp(call)
      return
    }
    this.after(call, IVR_MENU_MS, () => {
      this.removeLeg(call, ivrLeg, 'ivr')
      this.deliver(call, fwd.ForwardDN, fromRouter)
    })
  }

  private enterQueue (call: Call, queueLeg: Leg, fromRouter: boolean): void {
    const queue = this.dir.queues.find((q) => q.Number === queueLeg.self.dn)
    const previous = call.record.queue
    call.record.queue = { dn: queueLeg.self.dn, waitMs: 0, abandoned: false, agentsRung: previous?.agentsRung ?? [], answeredBy: null }
    call.queueEnteredAt = Date.now()
    const overflow = call.overflowDone ? null : call.plan.overflow
    if (overflow !== null) {
      // Nobody in this queue answers; after ringMs the call moves on to the overflow queue.
      this.ringMembers(call, queueLeg, null)
      this.after(call, call.giveUpMs, () => {
        this.clearCallTimers(call)
        call.overflowDone = true
        this.leaveQueue(call, 'overflow')
        this.deliver(call, overflow, fromRouter)
      })
      return
    }
    if (this.ringMembers(call, queueLeg)) return
    const masterMs = (queue?.MasterTimeout ?? Infinity) * 1000
    if (masterMs < call.giveUpMs) {
      this.after(call, masterMs, () => {
        this.leaveQueue(call, 'timeout')
        this.endCall(call, 'timeout')
      })
    } else {
      this.scheduleGiveUp(call)
    }
  }

  /**
   * Rings a queue's agents or a ring group's members on behalf of `groupLeg` (ring all or hunt).
   * Returns true when one of them is going to answer.
   */
  private ringMembers (call: Call, groupLeg: Leg, answerer: string | null = call.answer): boolean {
    const dn = groupLeg.self.dn
    const queue = this.dir.queues.find((q) => q.Number === dn)
    const group = this.dir.ringGroups.find((g) => g.Number === dn)
    const hunt = queue !== undefined ? queue.PollingStrategy === 'Hunt' : group?.RingStrategy === 'Hunt'
    const slotMs = Math.min(((queue?.RingTimeout ?? group?.RingTime) ?? 20) * 1000, call.ringMs)
    const members = groupMembers(this.dir, dn).filter((m) => m.skip === null).map((m) => m.dn)
    const onBehalf = { on_behalf_of_dn: dn, on_behalf_of_type: groupLeg.self.type }
    const willAnswer = answerer !== null && members.includes(answerer)
    const ring = (member: string): Leg => {
      const u = findUser(this.dir, member)
      const self: Party = { dn: member, kind: 'extension', type: 'Wextension', number: member, name: u?.DisplayName ?? member, pid: 0 }
      const rung = call.record.queue?.agentsRung
      if (queue !== undefined && rung !== undefined && !rung.includes(member)) rung.push(member)
      return this.addLeg(call, self, 'target', 'Ringing', call.caller.self, onBehalf)
    }
    if (members.length === 0) return false
    if (!hunt) {
      for (const m of members) {
        const leg = ring(m)
        if (m === answerer) this.after(call, call.ringMs, () => { this.answer(call, leg) })
      }
      return willAnswer
    }
    const ringTurn = (i: number): void => {
      const m = members[i % members.length]
      const leg = ring(m)
      if (m === answerer) {
        this.after(call, slotMs, () => { this.answer(call, leg) })
        return
      }
      this.after(call, slotMs, () => {
        this.removeLeg(call, leg, 'missed')
        ringTurn(i + 1)
      })
    }
    ringTurn(0)
    return willAnswer
  }

  private leaveQueue (call: Call, action: string): void {
    const q = call.record.queue
    if (q !== null) {
      q.waitMs = Date.now() - call.queueEnteredAt
      q.abandoned = action !== 'overflow'
    }
    for (const l of [...call.legs.values()]) if (l.role === 'target') this.removeLeg(call, l, 'missed')
    for (const l of [...call.legs.values()]) if (l.role === 'route') this.removeLeg(call, l, action)
  }

  private scheduleGiveUp (call: Call): void {
    if (call.giveUpScheduled) return
    call.giveUpScheduled = true
    this.after(call, call.giveUpMs, () => {
      if (call.record.queue !== null && call.record.queue.answeredBy === null && call.record.answeredAt === null) {
        this.leaveQueue(call, 'abandoned')
      }
      this.endCall(call, 'abandoned')
    })
  }

  // ---- answer, transfer, end ----------------------------------------------------------------

  private answer (call: Call, leg: Leg): void {
    if (call.ended || !call.legs.has(leg.p.id)) return
    this.clearCallTimers(call)
    const now = Date.now()
    this.setStatus(leg, 'Connected')
    for (const l of [...call.legs.values()]) if (l !== leg && l.role === 'target') this.removeLeg(call, l, 'missed')
    for (const l of [...call.legs.values()]) if (l.role === 'route') this.removeLeg(call, l, l.self.kind)
    this.setFacing(call, call.caller, leg.self, 'Connected')
    const record = call.record
    if (record.answeredAt === null) record.answeredAt = new Date(now)
    record.status = 'talking'
    if (leg.self.kind === 'extension') record.answeredBy = leg.self.dn
    if (record.queue !== null && record.queue.answeredBy === null && leg.p.on_behalf_of_dn === record.queue.dn) {
      record.queue.answeredBy = leg.self.dn
      record.queue.waitMs = now - call.queueEnteredAt
    }
    call.talker = leg
    const t = call.plan.transfer
    if (t !== null && !call.transferDone) this.after(call, t.afterMs, () => { this.transfer(call, t) })
    else this.scheduleHangUp(call)
  }

  private scheduleHangUp (call: Call): void {
    this.after(call, call.plan.talkMs, () => { this.endCall(call, 'answered') })
  }

  private transfer (call: Call, t: TransferPlan): void {
    const from = call.talker
    if (from === null) return
    call.transferDone = true
    const entry = { kind: t.kind, from: from.self.dn, to: t.to, answered: false }
    call.record.transfers.push(entry)
    const target = this.extensionParty(t.to)
    const reachable = unreachableReason(this.dir, t.to) === null
    if (t.kind === 'blind') {
      this.removeLeg(call, from, 'transferred')
      const xLeg = reachable
        ? this.addLeg(call, target, 'target', 'Ringing', call.caller.self, { referred_by_dn: from.self.dn, referred_by_type: 'Wextension' })
        : null
      this.setFacing(call, call.caller, target)
      call.talker = null
      this.after(call, t.ringMs, () => {
        if (t.answer && xLeg !== null) {
          entry.answered = true
          this.answer(call, xLeg)
          return
        }
        if (xLeg !== null) this.removeLeg(call, xLeg, 'missed')
        // The call returns to the transferring extension on a new leg, without ringing.
        const back = this.addLeg(call, this.extensionParty(from.self.dn), 'target', 'Connected', call.caller.self, {})
        back.connectedAt = Date.now()
        this.setFacing(call, call.caller, back.self)
        call.talker = back
        call.record.answeredBy = back.self.dn
        this.scheduleHangUp(call)
      })
      return
    }
    const consult = this.addLeg(call, this.extensionParty(from.self.dn), 'consult', 'Dialing', target, {})
    const xLeg = reachable ? this.addLeg(call, target, 'target', 'Ringing', consult.self, {}) : null
    this.after(call, t.ringMs, () => {
      if (!t.answer || xLeg === null) {
        if (xLeg !== null) this.removeLeg(call, xLeg, 'missed')
        this.removeLeg(call, consult, 'consult')
        this.scheduleHangUp(call)
        return
      }
      entry.answered = true
      this.setStatus(xLeg, 'Connected')
      this.setStatus(consult, 'Connected')
      this.after(call, ATTENDED_COMPLETE_MS, () => {
        this.removeLeg(call, consult, 'consult')
        this.removeLeg(call, from, 'transferred')
        this.setFacing(call, xLeg, call.caller.self)
        this.setFacing(call, call.caller, xLeg.self)
        call.talker = xLeg
        call.record.answeredBy = xLeg.self.dn
        this.scheduleHangUp(call)
      })
    })
  }

  /** Removes every leg (members, then queues/IVRs/groups, then the caller) and closes the record. */
  private endCall (call: Call, action: string): void {
    if (call.ended) return
    this.clearCallTimers(call)
    const legs = [...call.legs.values()]
    for (const l of legs) if (l.role === 'target' || l.role === 'consult') this.removeLeg(call, l, action)
    for (const l of legs) if (l.role === 'route') this.removeLeg(call, l, action)
    this.removeLeg(call, call.caller, action)
    call.ended = true
    call.record.endedAt = new Date()
    call.record.status = 'ended'
    this.calls.delete(call.callid)
    this.trimRecords()
  }

  private trimRecords (): void {
    const excess = this.recordList.length - ENDED_RECORDS_LIMIT - this.calls.size
    if (excess < 1000) return
    let dropped = 0
    this.recordList = this.recordList.filter((r) => {
      if (dropped < excess && r.status === 'ended') { dropped++; return false }
      return true
    })
  }

  // ---- legs and participants ----------------------------------------------------------------

  private newLeg (call: Call, self: Party, role: LegRole, status: ParticipantStatus, facing: Party, extra: Partial<CallParticipant>): Leg {
    const id = this.nextPid++
    self.pid = id
    const p: CallParticipant = {
      ...EMPTY_FIELDS,
      id,
      status,
      dn: self.dn,
      device_id: self.kind === 'extension' ? deviceIdOf(self.dn) : '',
      ...facingFields(self, facing),
      ...extra,
      callid: call.callid,
      legid: ++call.legCounter
    }
    const now = Date.now()
    const leg: Leg = {
      p, self, facing, role, inStore: false, segStart: now,
      connectedAt: status === 'Connected' ? now : null,
      recordable: role === 'target' && self.kind === 'extension'
    }
    call.legs.set(id, leg)
    return leg
  }

  private addLeg (call: Call, self: Party, role: LegRole, status: ParticipantStatus, facing: Party, extra: Partial<CallParticipant>): Leg {
    const leg = this.newLeg(call, self, role, status, facing, extra)
    this.store(call, leg)
    return leg
  }

  private store (call: Call, leg: Leg): void {
    leg.inStore = true
    let m = this.byDn.get(leg.p.dn)
    if (m === undefined) { m = new Map(); this.byDn.set(leg.p.dn, m) }
    m.set(leg.p.id, leg.p)
    this.legIndex.set(leg.p.id, { call, leg })
    this.emit('upsert', leg.p)
  }

  private setStatus (leg: Leg, status: ParticipantStatus): void {
    if (leg.p.status === status) return
    leg.p.status = status
    if (status === 'Connected' && leg.connectedAt === null) leg.connectedAt = Date.now()
    if (leg.inStore) this.emit('upsert', leg.p)
  }

  /** Points a leg at another party (and optionally a new status); announces the leg if it is new. */
  private setFacing (call: Call, leg: Leg, other: Party, status?: ParticipantStatus): void {
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

  private removeLeg (call: Call, leg: Leg, action: string): void {
    if (!call.legs.delete(leg.p.id)) return
    if (leg.inStore) {
      const m = this.byDn.get(leg.p.dn)
      m?.delete(leg.p.id)
      if (m !== undefined && m.size === 0) this.byDn.delete(leg.p.dn)
      this.legIndex.delete(leg.p.id)
      this.emit('remove', leg.p)
    }
    const segmentAction = leg.connectedAt !== null && leg.role === 'target' && action !== 'transferred' ? 'answered' : action
    const segment = leg.role === 'target' || leg.role === 'route' ? this.closeSegment(call, leg, segmentAction) : null
    if (call.plan.record && leg.recordable && leg.connectedAt !== null) this.scheduleRecording(call, leg, segment)
  }

  private closeSegment (call: Call, leg: Leg, action: string): SimCallRecord['segments'][number] {
    const now = Date.now()
    const answered = leg.role === 'target' && leg.connectedAt !== null
    const segment = {
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

  private emit (type: ParticipantEvent['type'], p: CallParticipant): void {
    for (const listener of this.listeners) {
      try {
        listener({ type, participant: { ...p } })
      } catch {
        // A failing subscriber must not break the call flow.
      }
    }
  }

  // ---- recordings ---------------------------------------------------------------------------

  private scheduleRecording (call: Call, leg: Leg, segment: SimCallRecord['segments'][number] | null): void {
    const endedAt = Date.now()
    const startedAt = leg.connectedAt ?? endedAt
    const n = call.plan.recordingSegments
    const partMs = (endedAt - startedAt) / n
    const callerSide = leg.role === 'caller'
    const from = callerSide ? leg.self : leg.facing
    const to = callerSide ? leg.facing : leg.self
    const callType: SimRecording['CallType'] = call.plan.kind === 'inbound' ? 'InboundExternal' : call.plan.kind === 'outbound' ? 'OutboundExternal' : 'Local'
    const recs: SimRecording[] = []
    for (let i = 0; i < n; i++) {
      const start = new Date(startedAt + i * partMs)
      const relativePath = recordingRelativePath({
        extension: leg.self.dn,
        name: leg.self.name,
        participantId: leg.p.id,
        segmentIndex: i + 1,
        otherNumber: leg.facing.number,
        startedAt: start,
        callid: call.callid
      })
      recs.push({
        Id: this.nextRecordingId++,
        callid: call.callid,
        filePath: path.join(this.ctx.recordingsDir, relativePath),
        relativePath,
        StartTime: start,
        EndTime: new Date(startedAt + (i + 1) * partMs),
        CallType: callType,
        from: simParty(from),
        to: simParty(to),
        dn: leg.self.dn,
        segmentIndex: i + 1,
        refParticipantId: leg.p.id
      })
    }
    segment?.recordingIds.push(...recs.map((r) => r.Id))
    const record = call.record
    const timer = setTimeout(() => {
      this.recordingTimers.delete(timer)
      void this.writeRecordings(record, recs, partMs)
    }, randomInt(this.random, RECORDING_DELAY_MS[0], RECORDING_DELAY_MS[1]))
    timer.unref()
    this.recordingTimers.add(timer)
  }

  private async writeRecordings (record: SimCallRecord, recs: SimRecording[], partMs: number): Promise<void> {
    for (const rec of recs) {
      try {
        await writeWavFile(rec.filePath, partMs, { toneHz: callToneHz(rec.callid) })
        record.recordings.push(rec)
      } catch {
        // The recordings folder vanished (simulator closed, disk full): no file, no listing.
      }
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  private find (dn: string, id: number): { call: Call, leg: Leg } | undefined {
    const found = this.legIndex.get(id)
    return found !== undefined && found.leg.p.dn === dn ? found : undefined
  }

  private mustFind (dn: string, id: number): { call: Call, leg: Leg } {
    const found = this.find(dn, id)
    if (found === undefined) throw new SimActionError(`participant ${id} of ${dn} does not exist`)
    return found
  }

  private internalDestination (destination: string, kinds: SimDnKind[]): { dn: string, kind: SimDnKind } {
    const entry = typeof destination === 'string' ? findDn(this.dir, destination) : undefined
    if (entry === undefined || !kinds.includes(entry.kind)) {
      throw new SimScriptError(`destination "${String(destination)}" must be ${kinds.length === 1 ? 'an extension' : 'an extension, queue, ring group or IVR'} of this PBX`)
    }
    return entry
  }

  /** For interactive routing: the first extension at `dn` that can answer, or null. */
  private autoAnswerer (dn: string): string | null {
    const entry = findDn(this.dir, dn)
    if (entry?.kind === 'extension') return unreachableReason(this.dir, dn) === null ? dn : null
    return groupMembers(this.dir, dn).find((m) => m.skip === null)?.dn ?? null
  }

  private extensionParty (dn: string): Party {
    const u = findUser(this.dir, dn)
    return { dn, kind: 'extension', type: 'Wextension', number: dn, name: u?.DisplayName ?? dn, pid: 0 }
  }

  private trunkDn (): string {
    return this.dir.trunks[0]?.Number ?? '10000'
  }

  /** A timer of the call: skipped once the call ended, cleared with the call's other timers. */
  private after (call: Call, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      call.timers.delete(t)
      if (!call.ended) fn()
    }, ms)
    t.unref()
    call.timers.add(t)
  }

  private clearCallTimers (call: Call): void {
    for (const t of call.timers) clearTimeout(t)
    call.timers.clear()
    call.giveUpScheduled = false
  }

  private clearRecordingTimers (): void {
    for (const t of this.recordingTimers) clearTimeout(t)
    this.recordingTimers.clear()
  }
}
