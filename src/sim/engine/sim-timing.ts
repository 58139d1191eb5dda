// The simulator's own durations: how long the calls no script describes take (MakeCall, divert,
// transfers by an application, queue callbacks), when the caller of a route-point script presses
// its keys, and how long after a leg 3CX writes its recordings. Scripted calls set their own ring
// and talk times; these are the rest. The defaults are a real PBX's; a test that does not need them
// shortens them (`createSimulator({ timing })`, docs/simulator.md "Timing").
import { SimScriptError } from './call-script.js'

export interface SimTiming {
  /** A reachable destination of a MakeCall, divert, application transfer or queue callback answers after this, ms. */
  answerMs: number
  /** …an unreachable one rings this long before the caller gives up, ms (3CX's NoAnswerTimeout). */
  noAnswerMs: number
  /** How long such a call talks once answered, ms. */
  talkMs: number
  /** After a route point answers, a script's caller presses its `dtmf` keys this much later, ms. */
  digitsAfterAnswerMs: number
  /** A recorded leg's WAV files are written between these two delays after the leg ends, ms (seeded). */
  recordingDelayMs: readonly [number, number]
}

export const DEFAULT_SIM_TIMING: Readonly<SimTiming> = Object.freeze({
  answerMs: 1000,
  noAnswerMs: 20_000,
  talkMs: 10_000,
  digitsAfterAnswerMs: 1000,
  recordingDelayMs: [200, 2000] as const
})

const MAX_MS = 3_600_000

function checkMs (name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_MS) {
    throw new SimScriptError(`timing.${name} must be an integer number of ms from 0 to ${MAX_MS}, got ${JSON.stringify(v)}`)
  }
  return v
}

/** The defaults with `partial` on top, checked (SimScriptError naming the field when a value is not a duration). */
export function simTiming (partial: Partial<SimTiming> = {}): SimTiming {
  const known = new Set(Object.keys(DEFAULT_SIM_TIMING))
  for (const k of Object.keys(partial)) if (!known.has(k)) throw new SimScriptError(`timing.${k} is not a simulator timing (${[...known].join(', ')})`)
  const t = { ...DEFAULT_SIM_TIMING, ...partial }
  const delay = t.recordingDelayMs
  if (!Array.isArray(delay) || delay.length !== 2) throw new SimScriptError('timing.recordingDelayMs must be [least, most] ms')
  const [least, most] = [checkMs('recordingDelayMs[0]', delay[0]), checkMs('recordingDelayMs[1]', delay[1])]
  if (least > most) throw new SimScriptError(`timing.recordingDelayMs: the least delay (${least}) is more than the most (${most})`)
  return {
    answerMs: checkMs('answerMs', t.answerMs),
    noAnswerMs: checkMs('noAnswerMs', t.noAnswerMs),
    talkMs: checkMs('talkMs', t.talkMs),
    digitsAfterAnswerMs: checkMs('digitsAfterAnswerMs', t.digitsAfterAnswerMs),
    recordingDelayMs: [least, most]
  }
}
