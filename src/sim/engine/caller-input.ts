// What the caller of a route-point application hears and does: the prompts the application streams
// in play for as long as their audio lasts (then Call Control's "prompt playback finished"), and the
// caller presses keys — the digits of its script, or those a test sends — heard as a DTMF string.
import type { CallParticipant } from '../../pbx/callcontrol-types.js'
import { after, type Call, type EngineCore, type Leg } from './live-call.js'

/** Raw PCM 16-bit 8 kHz mono: bytes per ms of audio. */
export const PCM_BYTES_PER_MS = 16
/** After a route point answers, the caller presses the script's digits `timing.digitsAfterAnswerMs` later, or this long after the prompt then playing has finished. */
const DIGITS_AFTER_PROMPT_MS = 200

/** The connected route-point legs of a call: where the caller's keys go. */
export function routePointLegs (call: Call): Leg[] {
  return [...call.legs.values()].filter((l) => l.self.kind === 'routepoint' && l.inStore && l.p.status === 'Connected')
}

/** The caller presses `digits`: one DTMF event per connected route-point leg of the call. */
export function pressDigits (core: EngineCore, call: Call, digits: string): CallParticipant[] {
  const legs = routePointLegs(call)
  for (const leg of legs) core.legs.signal(leg, { type: 'dtmf', digits })
  return legs.map((l) => ({ ...l.p }))
}

/** Once a route point answered: the caller presses the script's digits (after the prompt, if one plays). */
export function scheduleScriptDigits (core: EngineCore, call: Call, leg: Leg): void {
  const digits = call.plan.dtmf
  if (digits === null) return
  after(call, core.timing.digitsAfterAnswerMs, () => {
    const wait = leg.promptEndsAt - Date.now()
    if (wait <= 0) pressDigits(core, call, digits)
    else after(call, wait + DIGITS_AFTER_PROMPT_MS, () => { pressDigits(core, call, digits) })
  })
}

/** `bytes` more of a prompt arrived for the leg: it plays that much longer. */
export function promptAudio (leg: Leg, bytes: number): void {
  leg.promptEndsAt = Math.max(Date.now(), leg.promptEndsAt) + bytes / PCM_BYTES_PER_MS
}

/** The application finished sending a prompt: "playback finished" once it has played. */
export function promptSent (core: EngineCore, call: Call, leg: Leg): void {
  after(call, Math.max(0, leg.promptEndsAt - Date.now()), () => {
    if (call.legs.has(leg.p.id)) core.legs.signal(leg, { type: 'promptFinished' })
  })
}
