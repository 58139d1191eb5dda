// What the console shows of a call in progress, from the live call model (pure): who calls whom,
// in which state, through which queue or ring group, since when. The page ticks the durations
// itself from `startedAt`/`answeredAt`; the server only sends changes.
import type { LiveCall, LiveLeg } from '../calls/live-call.js'
import { queueWaiting, type QueueWaiting } from './queue-view.js'

/** `held`: the customer waits on hold while the transferor consults the target (an attended transfer). */
export type ConsoleCallState = 'dialing' | 'ringing' | 'talking' | 'held' | 'transferring'

export interface ConsoleCall {
  callid: number
  legacyId: string
  direction: string
  did: string
  caller: string
  callerName: string
  callee: string
  state: ConsoleCallState
  /** The state as the page shows it: "on hold (102 consults 103)", "transferring (102 → 103)", "talking" … */
  stateText: string
  /** Queues and ring groups the call is in (DN numbers), '' when none. */
  via: string
  startedAt: number
  answeredAt: number | null
  /** Every leg; `since`: when it appeared (a queue leg's age is the caller's wait). */
  legs: Array<{ dn: string, dnType: string, status: string, since: number }>
}

const ROUTING_TYPES = new Set(['queue', 'ringgroup'])

function partyOf (leg: LiveLeg): string {
  return leg.dnType === 'externalline' ? leg.externalParty : leg.dn
}

export function consoleState (c: LiveCall): ConsoleCallState {
  if (c.transfer?.kind === 'consultation') return 'held'
  if (c.state === 'Transferring' || c.state === 'Rerouting') return 'transferring'
  if (c.legs.some((l) => l.status === 'Connected') && c.answeredAt !== null) return 'talking'
  if (c.legs.some((l) => l.status === 'Ringing')) return 'ringing'
  return 'dialing'
}

export function stateText (c: LiveCall, state: ConsoleCallState): string {
  // A standby may show calls published by an older holder, without `transfer`.
  const t = c.transfer ?? null
  if (t === null) return state
  if (t.kind === 'consultation') return `on hold (${t.by} consults ${t.target})`
  return `transferring (${t.by} → ${t.target})`
}

export function consoleCall (c: LiveCall): ConsoleCall {
  const first = c.legs[0]
  const rest = c.legs.slice(1).filter((l) => !ROUTING_TYPES.has(l.dnType))
  const talking = rest.filter((l) => l.status === 'Connected')
  // The answering party (during a consultation: the one who put the caller on hold), else everyone
  // being rung, else the number being dialled.
  const parties = c.transfer?.kind === 'consultation' ? [c.transfer.by] : (talking.length > 0 ? talking : rest).map(partyOf)
  const callee = [...new Set(parties)].join(', ') || (first?.externalParty ?? '')
  const state = consoleState(c)
  return {
    callid: c.callid,
    legacyId: c.legacyId,
    direction: c.direction,
    did: c.did,
    caller: first === undefined ? '' : partyOf(first),
    callerName: first?.callerName ?? '',
    callee,
    state,
    stateText: stateText(c, state),
    via: c.legs.filter((l) => ROUTING_TYPES.has(l.dnType)).map((l) => l.dn).join(', '),
    startedAt: c.startedAt,
    answeredAt: c.answeredAt,
    legs: c.legs.map((l) => ({ dn: l.dn, dnType: l.dnType, status: l.status, since: l.firstSeenAt }))
  }
}

export function consoleCalls (calls: readonly LiveCall[]): ConsoleCall[] {
  return calls.map(consoleCall).sort((a, b) => a.startedAt - b.startedAt || a.callid - b.callid)
}

/** What the page gets at once and after every change: the server's clock, the calls, the queues' waits. */
export interface LiveSnapshot {
  now: number
  calls: ConsoleCall[]
  queues: QueueWaiting[]
}

export function liveSnapshot (list: readonly LiveCall[], now: number): LiveSnapshot {
  const calls = consoleCalls(list)
  return { now, calls, queues: queueWaiting(calls) }
}
