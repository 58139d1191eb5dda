// The simulator's call engine: one model of calls and their legs (Call Control participants), from
// which the WebSocket events, CallHistoryView segments, reports and recordings are all derived.
// Calls play out in real time on timers; every timer belongs to a call (or to a pending recording)
// and is cleared by stop() and reset(). The participant sequences it produces are the contract in
// docs/DEVELOPING.md "Participant sequences". This is the front; the modules beside it do the work:
// leg-book (legs, events, segments), router (where a call rings), call-flow (answer, transfer,
// end), app-calls (Call Control actions), recorder (WAV files).
import type { CallParticipant, ParticipantStatus } from '../../pbx/callcontrol-types.js'
import type { SimCallRecord, SimDirectory } from '../sim-types.js'
import { planScript, type CallPlan, type CallScript } from './call-script.js'
import { planMakeCall } from './makecall-plan.js'
import { simTiming, type SimTiming } from './sim-timing.js'
import type { OutboundRuleRow } from './outbound-rules.js'
import { dnType } from './dn-lookup.js'
import { LegBook, type ParticipantListener } from './leg-book.js'
import { clearCallTimers, newRecord, type Call, type EngineCore } from './live-call.js'
import type { Party } from './party.js'
import { Recorder } from './recorder.js'
import { endCall } from './call-flow.js'
import { dialOut, deliver, isBusy } from './router.js'
import {
  answerParticipant, attachParticipantData, divertParticipant, dropParticipant, transferParticipant
} from './app-calls.js'
import { pressDigits, promptAudio, promptSent } from './caller-input.js'

export { SimRefusal, SimScriptError } from './call-script.js'
export type { RefusalReason } from './call-script.js'
export { PCM_BYTES_PER_MS } from './caller-input.js'
export type { CallScript } from './call-script.js'
export { SimActionError } from './app-calls.js'
export { deviceIdOf } from './party.js'
export type { ParticipantEvent, ParticipantListener } from './leg-book.js'

export interface CallEngineOptions {
  /** The directory as it is now (a reset replaces it, so it is read afresh). */
  directory: () => SimDirectory
  /** Root of the WAV recordings tree. */
  recordingsDir: string
  seed: number
  /** The PBX's outbound rules as XAPI rows (none: every external number takes the first outbound trunk). */
  outboundRules?: () => readonly OutboundRuleRow[]
  /** The simulator's own durations (sim-timing.ts); default a real PBX's. */
  timing?: Partial<SimTiming>
}

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

/** The engine keeps this many ended calls (plus every active one). */
export const ENDED_RECORDS_LIMIT = 50_000
const CALLID_START = 1000

export class CallEngine {
  private readonly calls = new Map<number, Call>()
  private recordList: SimCallRecord[] = []
  private readonly resetListeners = new Set<() => void>()
  private readonly recorder: Recorder
  private readonly legs: LegBook
  private readonly core: EngineCore
  private nextCallid = CALLID_START

  constructor (readonly options: CallEngineOptions) {
    const timing = simTiming(options.timing)
    this.recorder = new Recorder(options.recordingsDir, options.seed, timing.recordingDelayMs)
    this.legs = new LegBook(this.recorder)
    const engine = this
    this.core = {
      get dir () { return options.directory() },
      legs: this.legs,
      timing,
      ended (call) { engine.forget(call) },
      placeCall (from, to, onBehalfOf) {
        try {
          return engine.begin({ ...planMakeCall(options.directory(), from, to, undefined, timing), onBehalfOf }).callid
        } catch {
          return null // the directory changed: the agent can no longer call out
        }
      }
    }
  }

  /** Every call the engine has played or is playing, oldest first (the last 50,000 ended ones). */
  records (): readonly SimCallRecord[] { return this.recordList }

  /** Number of calls in progress. */
  activeCalls (): number { return this.calls.size }

  /** Validates the script (SimScriptError when it cannot be played) and starts the call. */
  startCall (script: CallScript): { callid: number, chain: string } {
    const call = this.begin(planScript(this.core.dir, script))
    return { callid: call.callid, chain: call.record.chain }
  }

  /**
   * XAPI Users/Pbx.MakeCall and Call Control makecall: returns the caller's own new leg. With
   * `refusals` the PBX refuses as 3CX does (SimRefusal: PhoneNotRegistered, NoDestinations, PhoneBusy).
   */
  makeCall (dn: string, destination: string, opts: { refusals?: boolean } = {}): CallParticipant {
    const refusals = opts.refusals === true
      ? { busy: (ext: string) => isBusy(this.core, ext), outboundRules: this.options.outboundRules?.() ?? [] }
      : undefined
    const call = this.begin(planMakeCall(this.core.dir, dn, destination, refusals, this.core.timing))
    return { ...call.caller.p }
  }

  /** The caller of a call presses keys (POST /_sim/calls/{callid}/dtmf): route-point legs that hear them. */
  pressDigits (callid: number, digits: string): CallParticipant[] | null {
    const call = this.calls.get(callid)
    return call === undefined ? null : pressDigits(this.core, call, digits)
  }

  /**
   * An application streams a prompt into a leg (POST …/stream): `chunk` bytes of PCM at a time,
   * then `done`, after which the leg signals "playback finished" once the audio has played.
   * False when the leg is gone.
   */
  streamPrompt (dn: string, id: number, event: { chunk: number } | 'done'): boolean {
    const found = this.legs.find(dn, id)
    if (found === undefined) return false
    if (event === 'done') promptSent(this.core, found.call, found.leg)
    else promptAudio(found.leg, event.chunk)
    return true
  }

  /** Call Control `attach_participant_data`. */
  attachParticipantData (dn: string, id: number, data: Record<string, unknown>): CallParticipant {
    return attachParticipantData(this.core, dn, id, data)
  }

  /** What the application attached to a leg (for tests and GET /_sim/calls). */
  attachedData (dn: string, id: number): Record<string, unknown> | undefined {
    const found = this.legs.find(dn, id)
    return found === undefined ? undefined : { ...found.leg.attachedData }
  }

  dropCall (callid: number): boolean {
    const call = this.calls.get(callid)
    if (call === undefined) return false
    endCall(this.core, call, 'dropped')
    return true
  }

  participants (dn?: string): CallParticipant[] { return this.legs.participants(dn) }

  participant (dn: string, id: number): CallParticipant | undefined { return this.legs.participant(dn, id) }

  onParticipantEvent (listener: ParticipantListener): () => void { return this.legs.onEvent(listener) }

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

  /** Call Control `drop`. */
  dropParticipant (dn: string, id: number): boolean { return dropParticipant(this.core, dn, id) }

  /** Call Control `answer` (the plugin checks direct_control first). */
  answerParticipant (dn: string, id: number): CallParticipant { return answerParticipant(this.core, dn, id) }

  /** Call Control `divert`. */
  divertParticipant (dn: string, id: number, destination: string): CallParticipant {
    return divertParticipant(this.core, dn, id, destination)
  }

  /** Call Control `transferto`. */
  transferParticipant (dn: string, id: number, destination: string): CallParticipant {
    return transferParticipant(this.core, dn, id, destination)
  }

  /** Ends every call (emitting removes), forgets all records and pending recordings. */
  reset (): void {
    for (const call of [...this.calls.values()]) endCall(this.core, call, 'dropped')
    this.recorder.clear(true)
    this.recordList = []
    for (const listener of this.resetListeners) listener()
  }

  /** Stops every timer without emitting anything (simulator shutdown). */
  stop (): void {
    for (const call of this.calls.values()) {
      clearCallTimers(call)
      call.ended = true
    }
    this.calls.clear()
    this.legs.clear()
    this.recorder.clear()
  }

  /** Resolves once no recording file is being written (after `stop`, before removing the folder). */
  async recordingsSettled (): Promise<void> {
    await this.recorder.settled()
  }

  private begin (plan: CallPlan): Call {
    const callid = this.nextCallid++
    const record = newRecord(callid, plan)
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
      caller: undefined as unknown as Call['caller'],
      talker: null,
      answer: plan.answer,
      ringMs: plan.ringMs,
      giveUpMs: plan.giveUpMs,
      giveUpScheduled: false,
      transferDone: false,
      overflowDone: false,
      busyForwarded: false,
      handingOver: null,
      queueEnteredAt: 0
    }
    this.calls.set(callid, call)
    this.recordList.push(record)
    const callerStatus: ParticipantStatus = plan.kind === 'inbound' ? 'Ringing' : 'Dialing'
    // The caller leg is announced when it first faces someone (deliver / outbound below).
    const onBehalf = plan.onBehalfOf === undefined ? {} : { on_behalf_of_dn: plan.onBehalfOf.dn, on_behalf_of_type: plan.onBehalfOf.type }
    call.caller = this.legs.newLeg(call, callerSelf, 'caller', callerStatus, callerSelf, onBehalf)
    call.caller.recordable = plan.kind === 'outbound' && plan.caller.kind === 'extension'
    if (plan.kind === 'outbound') dialOut(this.core, call)
    else deliver(this.core, call, plan.target, plan.kind === 'inbound')
    return call
  }

  private forget (call: Call): void {
    this.calls.delete(call.callid)
    const excess = this.recordList.length - ENDED_RECORDS_LIMIT - this.calls.size
    if (excess < 1000) return
    let dropped = 0
    this.recordList = this.recordList.filter((r) => {
      if (dropped < excess && r.status === 'ended') { dropped++; return false }
      return true
    })
  }
}
