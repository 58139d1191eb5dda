// The plan of a call placed by MakeCall (XAPI Pbx.MakeCall, Call Control makecall): no script,
// so whoever can answer at the destination does, after about a second.
import type { SimDirectory } from '../sim-types.js'
import { callerOf, DEFAULT_TALK_MS, fail, type CallPlan } from './call-script.js'
import { findDn, groupMembers, isExternalNumber, unreachableReason } from './dn-lookup.js'

/** Plan for a call placed through MakeCall: whoever can answer does, after about a second. */
export function planMakeCall (dir: SimDirectory, dn: string, destination: string): CallPlan {
  const caller = callerOf(dir, dn)
  if (caller.kind === 'externalline') fail(`${dn} is not an extension or route point of this PBX`)
  if (typeof destination !== 'string' || destination === '') fail('destination is required')
  const dest = findDn(dir, destination)
  let answer: string | null = null
  if (dest === undefined) {
    if (!isExternalNumber(dir, destination)) fail(`destination "${destination}" is neither a known DN nor an external number`)
    answer = 'remote'
  } else if (dest.kind === 'extension') {
    answer = unreachableReason(dir, dest.dn) === null ? dest.dn : null
  } else if (dest.kind === 'queue' || dest.kind === 'ringgroup') {
    answer = groupMembers(dir, dest.dn).find((m) => m.skip === null)?.dn ?? null
  } else if (dest.kind !== 'ivr') {
    fail(`${destination} cannot be called`)
  }
  if (dest?.dn === caller.dn) fail('a DN cannot call itself')
  return {
    kind: dest === undefined ? 'outbound' : 'internal',
    caller,
    target: destination,
    did: '',
    ruleName: '',
    answer,
    ringMs: MAKECALL_ANSWER_MS,
    giveUpMs: MAKECALL_GIVE_UP_MS,
    talkMs: DEFAULT_TALK_MS,
    transfer: null,
    hangup: 'caller',
    record: false,
    recordingSegments: 1,
    menu: null,
    overflow: null
  }
}

/** Interactive calls (MakeCall, divert, transferto): a reachable extension answers after ~1 s. */
export const MAKECALL_ANSWER_MS = 1000
/** …and an unanswered one rings for 20 s (3CX's default NoAnswerTimeout). */
export const MAKECALL_GIVE_UP_MS = 20_000
