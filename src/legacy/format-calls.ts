// Live calls in the legacy shapes of legacy-api.md §3.1 (pbx.ac.get, pbx.callsinfo.get). Pure.
import type { CallDirection, CallState, LiveCall, LiveLeg } from '../calls/live-call.js'

export interface AConn {
  dnNum: string
  dnType: string
  externalParty: string
  status: string
}

export interface ActiveConnectionsByCall {
  callID: number
  direction: CallDirection
  did: string
  AConnList: AConn[]
}

export interface CallInfo {
  callID: number
  state: CallState
  startedAt: string
  answeredAt: string | null
  did: string
  owner: AConn | null
  talkTo: AConn[]
  routingTo: AConn[]
}

/** `2026-11-21T08:37:16Z`: ISO-8601 UTC, whole seconds. */
export function isoSeconds (ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z'
}

export function formatConnection (leg: LiveLeg): AConn {
  return { dnNum: leg.dn, dnType: leg.dnType, externalParty: leg.externalParty, status: leg.status }
}

export function formatActiveConnections (calls: readonly LiveCall[]): { count: number, AConnByCallID: ActiveConnectionsByCall[] } {
  return {
    count: calls.length,
    AConnByCallID: calls.map((c) => ({
      callID: c.callid,
      direction: c.direction,
      did: c.did,
      AConnList: c.legs.map(formatConnection)
    }))
  }
}

/**
 * The leg a call "belongs" to: the first extension in a conversation, else the leg that started
 * the call (the trunk leg of an inbound call, the dialling extension of an outbound one).
 */
export function callOwner (legs: readonly LiveLeg[]): LiveLeg | null {
  return legs.find((l) => l.dnType === 'extension' && l.status === 'Connected') ?? legs[0] ?? null
}

export function formatCallInfo (c: LiveCall): CallInfo {
  const owner = callOwner(c.legs)
  const others = c.legs.filter((l) => l !== owner)
  return {
    callID: c.callid,
    state: c.state,
    startedAt: isoSeconds(c.startedAt),
    answeredAt: c.answeredAt === null ? null : isoSeconds(c.answeredAt),
    did: c.did,
    owner: owner === null ? null : formatConnection(owner),
    talkTo: others.filter((l) => l.status === 'Connected').map(formatConnection),
    // Ringing legs, and the far end of a call still being dialled.
    routingTo: others.filter((l) => l.status !== 'Connected').map(formatConnection)
  }
}

export function formatCallsInfo (calls: readonly LiveCall[]): { count: number, callsInfo: CallInfo[] } {
  return { count: calls.length, callsInfo: calls.map(formatCallInfo) }
}
