// Live calls of known shape, for tests that check formatting without the real call model.
import type { LiveCall, LiveLeg } from '../../src/calls/live-call.js'

export const T0 = Date.UTC(2026, 10, 21, 8, 37, 16)
export const CALLER = '+15557654321'

export function leg (dn: string, dnType: string, status: LiveLeg['status'], participantId: number, externalParty = CALLER): LiveLeg {
  return { dn, dnType, status, externalParty, participantId, callerName: '', firstSeenAt: T0, connectedAt: status === 'Connected' ? T0 : null }
}

/** Inbound call on "Sales line", answered by 101 seven seconds after it started. */
export const talkingCall: LiveCall = {
  callid: 46874,
  chid: 'c1',
  legacyId: '261121083716_46874-1',
  direction: 'Inbound',
  did: 'Sales line',
  state: 'Talking',
  transfer: null,
  startedAt: T0,
  answeredAt: T0 + 7000,
  legs: [leg('10000', 'externalline', 'Connected', 1), leg('101', 'extension', 'Connected', 3)]
}
