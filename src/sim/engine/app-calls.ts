// What a Call Control application does to a leg: answer, drop, divert (while it rings) and blind
// transfer (once connected). Each checks the leg's state first; a state that does not allow the
// action is a SimActionError (Call Control answers 422), a bad destination a SimScriptError (400).
import type { CallParticipant } from '../../pbx/callcontrol-types.js'
import type { SimDnKind } from '../sim-types.js'
import { SimRefusal, SimScriptError } from './call-script.js'
import { answer, endCall, releaseHandOver, scheduleGiveUp, transfer } from './call-flow.js'
import { findDn, findUser, unreachableReason } from './dn-lookup.js'
import { clearCallTimers, type Call, type EngineCore, type Leg } from './live-call.js'
import type { Party } from './party.js'
import { autoAnswerer, deliver, isBusy } from './router.js'

/** A participant action the current leg state does not allow (Call Control answers 422). */
export class SimActionError extends Error {
  override name = 'SimActionError'
}

function mustFind (core: EngineCore, dn: string, id: number): { call: Call, leg: Leg } {
  const found = core.legs.find(dn, id)
  if (found === undefined) throw new SimActionError(`participant ${id} of ${dn} does not exist`)
  return found
}

/** Where an application sends a call: an internal DN of one of `kinds`, not a busy extension. */
function internalDestination (core: EngineCore, destination: string, kinds: SimDnKind[]): Party {
  const entry = typeof destination === 'string' ? findDn(core.dir, destination) : undefined
  if (entry === undefined || !kinds.includes(entry.kind)) {
    throw new SimScriptError(`destination "${String(destination)}" must be ${kinds.length === 1 ? 'an extension' : 'an extension, queue, ring group or IVR'} of this PBX`)
  }
  if (isBusy(core, entry.dn)) throw new SimRefusal('PhoneBusy', `extension ${entry.dn} is busy (in a call, call waiting off)`)
  return { dn: entry.dn, kind: entry.kind, type: entry.type, number: entry.dn, name: entry.name, pid: 0 }
}

const ROUTABLE: SimDnKind[] = ['extension', 'queue', 'ringgroup', 'ivr']

/** The call, without its routing timers, rings `dest` afresh the way interactive routing does. */
function reroute (core: EngineCore, call: Call, dest: Party): void {
  call.answer = autoAnswerer(core, dest.dn, call.callid)
  call.ringMs = core.timing.answerMs
  call.giveUpMs = core.timing.noAnswerMs
  call.overflowDone = true
  deliver(core, call, dest.dn, false)
}

/** `drop`: a ringing queue/ring-group member leg just stops ringing; anything else ends the call. */
export function dropParticipant (core: EngineCore, dn: string, id: number): boolean {
  const found = core.legs.find(dn, id)
  if (found === undefined) return false
  const { call, leg } = found
  if (leg === call.handingOver) {
    // The application lets go of a call it routed on (3CX's IVR sample drops right after routeto).
    releaseHandOver(core, call)
    return true
  }
  if (leg.role === 'target' && leg.p.status === 'Ringing' && leg.p.on_behalf_of_dn !== '') {
    core.legs.removeLeg(call, leg, 'rejected')
    if (call.answer === leg.p.dn) {
      call.answer = null
      scheduleGiveUp(core, call)
    }
    return true
  }
  endCall(core, call, 'dropped')
  return true
}

/** `answer` (the plugin checks direct_control first). */
export function answerParticipant (core: EngineCore, dn: string, id: number): CallParticipant {
  const { call, leg } = mustFind(core, dn, id)
  if (leg.p.status !== 'Ringing' || leg.role !== 'target') throw new SimActionError(`participant ${id} is ${leg.p.status}, only a ringing participant can be answered`)
  answer(core, call, leg)
  return { ...leg.p }
}

/** `divert`: a ringing call goes to another internal destination instead. */
export function divertParticipant (core: EngineCore, dn: string, id: number, destination: string): CallParticipant {
  const { call, leg } = mustFind(core, dn, id)
  if (leg.p.status !== 'Ringing' || leg.role === 'caller') throw new SimActionError(`participant ${id} is ${leg.p.status}; divert works only while it rings`)
  if (destination === call.caller.self.dn) throw new SimScriptError('a call cannot be diverted to its caller')
  const dest = internalDestination(core, destination, ROUTABLE)
  const snapshot = { ...leg.p }
  clearCallTimers(call)
  for (const l of [...call.legs.values()]) {
    if (l.role === 'target' || l.role === 'route') core.legs.removeLeg(call, l, l === leg ? 'diverted' : 'missed')
  }
  reroute(core, call, dest)
  return snapshot
}

/** `transferto`: blind transfer of the caller by the connected extension leg (or route point). */
export function transferParticipant (core: EngineCore, dn: string, id: number, destination: string): CallParticipant {
  const { call, leg } = mustFind(core, dn, id)
  if (leg.self.kind === 'routepoint') return handOver(core, call, leg, destination)
  if (leg.p.status !== 'Connected' || leg !== call.talker) {
    throw new SimActionError(`participant ${id} is ${leg.p.status === 'Connected' ? 'not the answering extension of the call' : leg.p.status}; transferto works on the connected extension leg`)
  }
  const dest = internalDestination(core, destination, ['extension'])
  if (dest.dn === dn) throw new SimScriptError('a call cannot be transferred to the extension that has it')
  const snapshot = { ...leg.p }
  const answers = unreachableReason(core.dir, dest.dn) === null
  clearCallTimers(call)
  transfer(core, call, { kind: 'blind', to: dest.dn, afterMs: 0, answer: answers, ringMs: answers ? core.timing.answerMs : core.timing.noAnswerMs })
  return snapshot
}

/**
 * `routeto`/`transferto` by a connected route-point leg: the application hands its caller (or the
 * party it called) to an extension, queue, ring group or IVR. Its leg stays in the call until the
 * destination answers (an IVR at once), so a `drop` right after the routeto finds it.
 */
function handOver (core: EngineCore, call: Call, leg: Leg, destination: string): CallParticipant {
  if (leg.p.status !== 'Connected') throw new SimActionError(`participant ${leg.p.id} is ${leg.p.status}; transferto works on a connected participant`)
  const other = leg === call.caller ? call.talker : call.caller
  if (other === null) throw new SimActionError(`participant ${leg.p.id} has nobody to transfer yet`)
  if (destination === other.self.dn) throw new SimScriptError('a call cannot be transferred to the party being transferred')
  const dest = internalDestination(core, destination, ROUTABLE)
  const snapshot = { ...leg.p }
  clearCallTimers(call)
  if (leg === call.caller) {
    // The application placed the call: the party it reached becomes the caller of what follows.
    core.legs.setFacing(call, other, dest)
    other.role = 'caller'
    call.caller = other
  }
  releaseHandOver(core, call) // an earlier hand-over of the same call is over
  call.handingOver = leg
  call.talker = null
  reroute(core, call, dest)
  if (dest.kind === 'ivr') releaseHandOver(core, call)
  return snapshot
}

/** `attach_participant_data`: keys and values the application keeps on the leg. */
export function attachParticipantData (core: EngineCore, dn: string, id: number, data: Record<string, unknown>): CallParticipant {
  const { leg } = mustFind(core, dn, id)
  Object.assign(leg.attachedData, data)
  return { ...leg.p }
}
