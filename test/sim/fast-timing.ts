// The simulator's own durations, shortened for tests that wait for them but do not measure them
// (createSimulator({ timing }), docs/simulator.md "Timing"): a makecall answers after 100 ms and
// talks 500 ms, an unanswered one gives up after 1 s, a script's keys follow the route point's answer
// after 100 ms, and recordings are written 20–100 ms after their leg.
import type { SimTiming } from '../../src/sim/engine/sim-timing.js'

export const FAST_SIM_TIMING: SimTiming = { answerMs: 100, noAnswerMs: 1000, talkMs: 500, digitsAfterAnswerMs: 100, recordingDelayMs: [20, 100] }
