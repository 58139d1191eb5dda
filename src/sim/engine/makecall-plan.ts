// The plan of a call placed by MakeCall (XAPI Pbx.MakeCall, Call Control makecall): no script,
// so whoever can answer at the destination does, after about a second. With `refusals` (Call
// Control and XAPI), the PBX refuses what 3CX refuses: a caller whose phone is not registered, a number no
// outbound rule allows, an extension that is busy with call waiting off.
import type { SimDirectory } from '../sim-types.js'
import { callerOf, fail, SimRefusal, type CallerParty, type CallPlan } from './call-script.js'
import { findDn, findUser, groupMembers, isExternalNumber, unreachableReason } from './dn-lookup.js'
import { outboundTrunk, type OutboundRuleRow } from './outbound-rules.js'
import { DEFAULT_SIM_TIMING, type SimTiming } from './sim-timing.js'


export interface MakeCallRefusals {
  /** Whether the extension is busy (in a call, call waiting off). */
  busy: (dn: string) => boolean
  /** The PBX's outbound rules (XAPI OutboundRules rows). */
  outboundRules: readonly OutboundRuleRow[]
}

/** Queues and IVRs place calls too (outbound campaigns from their device); others as scripts allow. */
function makeCallCaller (dir: SimDirectory, dn: string): CallerParty {
  const entry = findDn(dir, dn)
  if (entry?.kind === 'queue' || entry?.kind === 'ivr') return { dn: entry.dn, kind: entry.kind, number: entry.dn, name: entry.name }
  return callerOf(dir, dn)
}

/**
 * Plan for a call placed through MakeCall: whoever can answer does, after `timing.answerMs` (about
 * a second); nobody answering, the caller gives up after `timing.noAnswerMs` (20 s).
 */
export function planMakeCall (dir: SimDirectory, dn: string, destination: string, refusals?: MakeCallRefusals, timing: SimTiming = DEFAULT_SIM_TIMING): CallPlan {
  const caller = makeCallCaller(dir, dn)
  if (caller.kind === 'externalline') fail(`${dn} is not an extension or route point of this PBX`)
  // Like 3CX: a makecall rings the caller's own phone first, so an extension without one cannot place it
  // (with refusals: PhoneNotRegistered below; without, a queue callback that can no longer be placed).
  if (refusals === undefined && findUser(dir, dn)?.IsRegistered === false) fail(`extension ${dn} is not registered: it has no phone to ring first`)
  if (typeof destination !== 'string' || destination === '') fail('destination is required')
  const dest = findDn(dir, destination)
  let answer: string | null = null
  if (dest === undefined) {
    if (!isExternalNumber(dir, destination)) fail(`destination "${destination}" is neither a known DN nor an external number`)
    answer = 'remote'
  } else if (dest.kind === 'extension') {
    answer = unreachableReason(dir, dest.dn) === null ? dest.dn : null
  } else if (dest.kind === 'queue' || dest.kind === 'ringgroup') {
    // A busy member does not pick up (router.ts skips it when busy states are on).
    answer = groupMembers(dir, dest.dn).find((m) => m.skip === null && refusals?.busy(m.dn) !== true)?.dn ?? null
  } else if (dest.kind !== 'ivr' && dest.kind !== 'routepoint') {
    fail(`${destination} cannot be called`)
  }
  if (dest?.dn === caller.dn) fail('a DN cannot call itself')
  if (refusals !== undefined) refuse(dir, caller, destination, dest === undefined ? null : dest.dn, refusals)
  return {
    kind: dest === undefined ? 'outbound' : 'internal',
    caller,
    target: destination,
    did: '',
    ruleName: '',
    answer,
    ringMs: timing.answerMs,
    giveUpMs: timing.noAnswerMs,
    talkMs: timing.talkMs,
    transfer: null,
    hangup: 'caller',
    record: false,
    recordingSegments: 1,
    menu: null,
    overflow: null,
    dtmf: null,
    // A busy extension destination is refused up front (PhoneBusy); a queue or ring group rings all members.
    busy: false,
    callback: false
  }
}

/** 3CX's refusals of a makecall (SimRefusal), checked once the call itself is valid. */
function refuse (dir: SimDirectory, caller: CallerParty, destination: string, destDn: string | null, refusals: MakeCallRefusals): void {
  const user = findUser(dir, caller.dn)
  if (user !== undefined && !user.IsRegistered) {
    throw new SimRefusal('PhoneNotRegistered', `extension ${caller.dn} is not registered: it has no phone to ring first`)
  }
  if (destDn === null) {
    if (user?.Internal === true) throw new SimRefusal('NoDestinations', `extension ${caller.dn} may only make internal calls; no outbound rule allows the number`)
    const trunk = outboundTrunk(refusals.outboundRules, dir.trunks, caller.dn, user, destination)
    if (typeof trunk === 'string') throw new SimRefusal('NoDestinations', trunk)
    return
  }
  if (findUser(dir, destDn) !== undefined && refusals.busy(destDn)) {
    throw new SimRefusal('PhoneBusy', `extension ${destDn} is busy (in a call, call waiting off)`)
  }
}
