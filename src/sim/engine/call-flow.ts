// How a call moves on once it rings: the answer, the caller giving up, the hang-up after talking,
// scripted transfers, and the end of the call (every leg removed in PBX order, the record closed).
import { after, clearCallTimers, type Call, type EngineCore, type Leg } from './live-call.js'
import type { TransferPlan } from './call-script.js'
import { unreachableReason } from './dn-lookup.js'
import { extensionParty } from './party.js'
import { scheduleScriptDigits } from './caller-input.js'

/** Between the consultation answer and the completion of an attended transfer. */
const ATTENDED_COMPLETE_MS = 300

export function answer (core: EngineCore, call: Call, leg: Leg): void {
  if (call.ended || !call.legs.has(leg.p.id)) return
  const { legs } = core
  clearCallTimers(call)
  releaseHandOver(core, call)
  const now = Date.now()
  legs.setStatus(leg, 'Connected')
  for (const l of [...call.legs.values()]) if (l !== leg && l.role === 'target') legs.removeLeg(call, l, 'missed')
  for (const l of [...call.legs.values()]) if (l.role === 'route') legs.removeLeg(call, l, l.self.kind)
  legs.setFacing(call, call.caller, leg.self, 'Connected')
  const record = call.record
  if (record.answeredAt === null) record.answeredAt = new Date(now)
  record.status = 'talking'
  if (leg.self.kind === 'extension') record.answeredBy = leg.self.dn
  if (record.queue !== null && record.queue.answeredBy === null && leg.p.on_behalf_of_dn === record.queue.dn) {
    record.queue.answeredBy = leg.self.dn
    record.queue.waitMs = now - call.queueEnteredAt
  }
  call.talker = leg
  if (leg.self.kind === 'routepoint') scheduleScriptDigits(core, call, leg)
  const t = call.plan.transfer
  if (t !== null && !call.transferDone) after(call, t.afterMs, () => { transfer(core, call, t) })
  else scheduleHangUp(core, call)
}

export function scheduleHangUp (core: EngineCore, call: Call): void {
  after(call, call.plan.talkMs, () => { endCall(core, call, 'answered') })
}

export function scheduleGiveUp (core: EngineCore, call: Call): void {
  if (call.giveUpScheduled) return
  call.giveUpScheduled = true
  after(call, call.giveUpMs, () => {
    if (call.record.queue !== null && call.record.queue.answeredBy === null && call.record.answeredAt === null) {
      leaveQueue(core, call, 'abandoned')
    }
    endCall(core, call, 'abandoned')
  })
}

/** The call leaves its queue (overflow, timeout, caller gave up): agents stop ringing. */
export function leaveQueue (core: EngineCore, call: Call, action: string): void {
  const q = call.record.queue
  if (q !== null) {
    q.waitMs = Date.now() - call.queueEnteredAt
    q.abandoned = action !== 'overflow'
  }
  for (const l of [...call.legs.values()]) if (l.role === 'target') core.legs.removeLeg(call, l, 'missed')
  for (const l of [...call.legs.values()]) if (l.role === 'route') core.legs.removeLeg(call, l, action)
}

/** A scripted (or transferto) transfer by the talking extension. */
export function transfer (core: EngineCore, call: Call, t: TransferPlan): void {
  const from = call.talker
  if (from === null) return
  const { legs, dir } = core
  call.transferDone = true
  const entry = { kind: t.kind, from: from.self.dn, to: t.to, answered: false }
  call.record.transfers.push(entry)
  const target = extensionParty(dir, t.to)
  const reachable = unreachableReason(dir, t.to) === null
  if (t.kind === 'blind') {
    legs.removeLeg(call, from, 'transferred')
    const xLeg = reachable
      ? legs.addLeg(call, target, 'target', 'Ringing', call.caller.self, { referred_by_dn: from.self.dn, referred_by_type: from.self.type })
      : null
    legs.setFacing(call, call.caller, target)
    call.talker = null
    after(call, t.ringMs, () => {
      if (t.answer && xLeg !== null) {
        entry.answered = true
        answer(core, call, xLeg)
        return
      }
      if (xLeg !== null) legs.removeLeg(call, xLeg, 'missed')
      // The call returns to the transferring extension on a new leg, without ringing.
      const back = legs.addLeg(call, extensionParty(dir, from.self.dn), 'target', 'Connected', call.caller.self, {})
      back.connectedAt = Date.now()
      legs.setFacing(call, call.caller, back.self)
      call.talker = back
      call.record.answeredBy = back.self.dn
      scheduleHangUp(core, call)
    })
    return
  }
  const consult = legs.addLeg(call, extensionParty(dir, from.self.dn), 'consult', 'Dialing', target, {})
  const xLeg = reachable ? legs.addLeg(call, target, 'target', 'Ringing', consult.self, {}) : null
  after(call, t.ringMs, () => {
    if (!t.answer || xLeg === null) {
      if (xLeg !== null) legs.removeLeg(call, xLeg, 'missed')
      legs.removeLeg(call, consult, 'consult')
      scheduleHangUp(core, call)
      return
    }
    entry.answered = true
    legs.setStatus(xLeg, 'Connected')
    legs.setStatus(consult, 'Connected')
    after(call, ATTENDED_COMPLETE_MS, () => {
      legs.removeLeg(call, consult, 'consult')
      legs.removeLeg(call, from, 'transferred')
      legs.setFacing(call, xLeg, call.caller.self)
      legs.setFacing(call, call.caller, xLeg.self)
      call.talker = xLeg
      call.record.answeredBy = xLeg.self.dn
      scheduleHangUp(core, call)
    })
  })
}

/** The route-point leg that routed the call on leaves it (the destination answered, or the application dropped it). */
export function releaseHandOver (core: EngineCore, call: Call): void {
  const leg = call.handingOver
  if (leg === null) return
  call.handingOver = null
  core.legs.removeLeg(call, leg, 'transferred')
}

/** Removes every leg (members, then queues/IVRs/groups, then the caller) and closes the record. */
export function endCall (core: EngineCore, call: Call, action: string): void {
  if (call.ended) return
  clearCallTimers(call)
  releaseHandOver(core, call)
  const legs = [...call.legs.values()]
  for (const l of legs) if (l.role === 'target' || l.role === 'consult') core.legs.removeLeg(call, l, action)
  for (const l of legs) if (l.role === 'route') core.legs.removeLeg(call, l, action)
  core.legs.removeLeg(call, call.caller, action)
  call.ended = true
  call.record.endedAt = new Date()
  call.record.status = 'ended'
  core.ended(call)
}
