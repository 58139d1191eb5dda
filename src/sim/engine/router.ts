// Where a call rings: out through the trunk, or to an internal DN — an extension, a ring group or a
// queue ringing its members (all at once or in turn), an IVR playing its menu — on the timers of
// the call's plan.
import { after, clearCallTimers, type Call, type EngineCore, type Leg } from './live-call.js'
import { answer, endCall, leaveQueue, scheduleGiveUp } from './call-flow.js'
import { busyForwardDn, callWaiting, findDn, findUser, groupMembers, trunkDn, unreachableReason } from './dn-lookup.js'
import { FROM_ROUTER, type Party } from './party.js'

/** How long the caller listens to the IVR prompt before pressing the digit. */
const IVR_MENU_MS = 300

/** An extension in a call (other than `callid`) whose profile takes no second call. */
export function isBusy (core: EngineCore, dn: string, callid?: number): boolean {
  return findUser(core.dir, dn) !== undefined &&
    core.legs.participants(dn).some((p) => p.callid !== callid) &&
    !callWaiting(core.dir, dn)
}

/** An outbound call: the trunk leg dials the external number. */
export function dialOut (core: EngineCore, call: Call): void {
  const trunk: Party = { dn: trunkDn(core.dir), kind: 'externalline', type: 'Wexternalline', number: call.plan.target, name: '', pid: 0 }
  core.legs.setFacing(call, call.caller, trunk)
  const trunkLeg = core.legs.addLeg(call, trunk, 'target', 'Dialing', call.caller.self, {})
  if (call.answer === 'remote') after(call, call.ringMs, () => { answer(core, call, trunkLeg) })
  else scheduleGiveUp(core, call)
}

/** Routes the call to an internal DN (extension, queue, ring group, IVR, route point). */
export function deliver (core: EngineCore, call: Call, dn: string, fromRouter: boolean): void {
  const { dir, legs } = core
  const entry = findDn(dir, dn)
  if (entry === undefined || !['extension', 'queue', 'ringgroup', 'ivr', 'routepoint'].includes(entry.kind)) {
    endCall(core, call, 'failed') // the directory changed under a running call
    return
  }
  const self: Party = { dn: entry.dn, kind: entry.kind, type: entry.type, number: entry.dn, name: entry.name, pid: 0 }
  const origin = fromRouter ? FROM_ROUTER : {}
  if (entry.kind === 'extension') {
    if (call.plan.busy && isBusy(core, dn, call.callid)) {
      busyExtension(core, call, self, fromRouter)
      return
    }
    legs.setFacing(call, call.caller, self)
    if (unreachableReason(dir, dn) === null) {
      const leg = legs.addLeg(call, self, 'target', 'Ringing', call.caller.self, origin)
      if (call.answer === dn) {
        after(call, call.ringMs, () => { answer(core, call, leg) })
        return
      }
    }
    scheduleGiveUp(core, call)
    return
  }
  if (entry.kind === 'routepoint') {
    // The call waits on the route point until its application answers, routes or drops it.
    legs.setFacing(call, call.caller, self)
    legs.addLeg(call, self, 'target', 'Ringing', call.caller.self, origin)
    scheduleGiveUp(core, call)
    return
  }
  if (entry.kind === 'ringgroup') {
    legs.setFacing(call, call.caller, self)
    const leg = legs.addLeg(call, self, 'route', 'Ringing', call.caller.self, origin)
    if (!ringMembers(core, call, leg)) scheduleGiveUp(core, call)
    return
  }
  // Queues and IVRs "answer" at once (music on hold, prompt): Connected, but not an answer.
  if (call.caller.p.status !== 'Connected') legs.setFacing(call, call.caller, self)
  const leg = legs.addLeg(call, self, 'route', 'Connected', call.caller.self, origin)
  legs.setFacing(call, call.caller, self, 'Connected')
  if (entry.kind === 'ivr') playMenu(core, call, leg, fromRouter)
  else enterQueue(core, call, leg, fromRouter)
}

/**
 * The call reaches an extension that is busy: it is not rung (a history segment "busy", no
 * participant), and the call follows the profile's busy forwarding once, or ends as 3CX ends it
 * when the busy route is voicemail or none (the simulator has no voicemail).
 */
function busyExtension (core: EngineCore, call: Call, self: Party, fromRouter: boolean): void {
  core.legs.removeLeg(call, core.legs.newLeg(call, self, 'target', 'Ringing', call.caller.self, {}), 'busy')
  const next = call.busyForwarded ? null : busyForwardDn(core.dir, self.dn, call.plan.kind === 'inbound')
  if (next === null) {
    core.legs.setFacing(call, call.caller, self)
    endCall(core, call, 'busy')
    return
  }
  call.busyForwarded = true
  // Whoever can answer at the forward destination does (unless the script has nobody answer).
  if (call.answer !== null) call.answer = autoAnswerer(core, next, call.callid)
  deliver(core, call, next, fromRouter)
}

/** For interactive routing: the first extension at `dn` that can answer (a busy member cannot), or null. */
export function autoAnswerer (core: EngineCore, dn: string, callid?: number): string | null {
  const entry = findDn(core.dir, dn)
  if (entry?.kind === 'extension') return unreachableReason(core.dir, dn) === null ? dn : null
  return groupMembers(core.dir, dn).find((m) => m.skip === null && !isBusy(core, m.dn, callid))?.dn ?? null
}

function playMenu (core: EngineCore, call: Call, ivrLeg: Leg, fromRouter: boolean): void {
  const digit = call.plan.menu
  const fwd = core.dir.receptionists.find((r) => r.Number === ivrLeg.self.dn)?.Forwards.find((f) => f.Input === digit)
  if (digit === null || fwd === undefined) {
    scheduleGiveUp(core, call)
    return
  }
  after(call, IVR_MENU_MS, () => {
    core.legs.removeLeg(call, ivrLeg, 'ivr')
    deliver(core, call, fwd.ForwardDN, fromRouter)
  })
}

function enterQueue (core: EngineCore, call: Call, queueLeg: Leg, fromRouter: boolean): void {
  const queue = core.dir.queues.find((q) => q.Number === queueLeg.self.dn)
  const previous = call.record.queue
  call.record.queue = { dn: queueLeg.self.dn, waitMs: 0, abandoned: false, agentsRung: previous?.agentsRung ?? [], answeredBy: null }
  call.queueEnteredAt = Date.now()
  if (call.plan.callback) {
    requestCallback(core, call, queueLeg)
    return
  }
  const overflow = call.overflowDone ? null : call.plan.overflow
  if (overflow !== null) {
    // Nobody in this queue answers; after ringMs the call moves on to the overflow queue.
    ringMembers(core, call, queueLeg, null)
    after(call, call.giveUpMs, () => {
      clearCallTimers(call)
      call.overflowDone = true
      leaveQueue(core, call, 'overflow')
      deliver(core, call, overflow, fromRouter)
    })
    return
  }
  if (ringMembers(core, call, queueLeg)) return
  const masterMs = (queue?.MasterTimeout ?? Infinity) * 1000
  if (masterMs < call.giveUpMs) {
    after(call, masterMs, () => {
      leaveQueue(core, call, 'timeout')
      endCall(core, call, 'timeout')
    })
  } else {
    scheduleGiveUp(core, call)
  }
}

/**
 * "Callback requested": the agents ring while the caller waits ringMs, then the caller asks to be
 * called back and hangs up (the queue leg leaves with action `callback`, not abandoned); the agent
 * the script names calls the caller's number back at once, as a new call from their extension.
 */
function requestCallback (core: EngineCore, call: Call, queueLeg: Leg): void {
  ringMembers(core, call, queueLeg, null)
  after(call, call.giveUpMs, () => {
    const agent = call.answer
    leaveQueue(core, call, 'callback')
    const q = call.record.queue
    endCall(core, call, 'callback')
    const callid = agent === null ? null : core.placeCall(agent, call.plan.caller.number, { dn: queueLeg.self.dn, type: queueLeg.self.type })
    if (q !== null) {
      q.abandoned = false
      q.callback = { callid }
    }
  })
}

/**
 * Rings a queue's agents or a ring group's members on behalf of `groupLeg` (ring all or hunt).
 * Returns true when one of them is going to answer.
 */
function ringMembers (core: EngineCore, call: Call, groupLeg: Leg, answerer: string | null = call.answer): boolean {
  const { dir, legs } = core
  const dn = groupLeg.self.dn
  const queue = dir.queues.find((q) => q.Number === dn)
  const group = dir.ringGroups.find((g) => g.Number === dn)
  const hunt = queue !== undefined ? queue.PollingStrategy === 'Hunt' : group?.RingStrategy === 'Hunt'
  const slotMs = Math.min(((queue?.RingTimeout ?? group?.RingTime) ?? 20) * 1000, call.ringMs)
  // With busy states on (script `busy`), a member already in another call without call waiting is
  // skipped as 3CX skips it: not rung, no participant.
  const members = groupMembers(dir, dn)
    .filter((m) => m.skip === null && !(call.plan.busy && isBusy(core, m.dn, call.callid)))
    .map((m) => m.dn)
  const onBehalf = { on_behalf_of_dn: dn, on_behalf_of_type: groupLeg.self.type }
  const willAnswer = answerer !== null && members.includes(answerer)
  const ring = (member: string): Leg => {
    const u = findUser(dir, member)
    const self: Party = { dn: member, kind: 'extension', type: 'Wextension', number: member, name: u?.DisplayName ?? member, pid: 0 }
    const rung = call.record.queue?.agentsRung
    if (queue !== undefined && rung !== undefined && !rung.includes(member)) rung.push(member)
    return legs.addLeg(call, self, 'target', 'Ringing', call.caller.self, onBehalf)
  }
  if (members.length === 0) return false
  if (!hunt) {
    for (const m of members) {
      const leg = ring(m)
      if (m === answerer) after(call, call.ringMs, () => { answer(core, call, leg) })
    }
    return willAnswer
  }
  const ringTurn = (i: number): void => {
    const m = members[i % members.length]
    const leg = ring(m)
    if (m === answerer) {
      after(call, slotMs, () => { answer(core, call, leg) })
      return
    }
    after(call, slotMs, () => {
      core.legs.removeLeg(call, leg, 'missed')
      ringTurn(i + 1)
    })
  }
  ringTurn(0)
  return willAnswer
}
