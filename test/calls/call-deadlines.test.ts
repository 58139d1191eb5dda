// When a due call end waits (endMustWait), and the per-call timers on fake time (CallDeadlines).
import t from 'tap'
import { CallDeadlines, endMustWait, HOLD_POLL_MS, MAX_HOLD_MS } from '../../src/calls/call-deadlines.js'
import { FakeClock } from '../fake-clock.js'

t.test('endMustWait: held calls and blind spells wait without limit, a pending fetch at most MAX_HOLD_MS', async (t) => {
  const base = { due: 1000, now: 1000, held: false, pending: null, blind: null }
  t.notOk(endMustWait(base), 'nothing pending: ends')
  t.ok(endMustWait({ ...base, held: true }), 'a held call\'s changes are not played yet')
  t.ok(endMustWait({ ...base, blind: 900, now: 1000 + 10 * MAX_HOLD_MS }), 'blind since before the end: waits however long')
  t.notOk(endMustWait({ ...base, blind: 1001 }), 'blind only after the end was due: ends')
  t.ok(endMustWait({ ...base, pending: 1000 }), 'a change announced before the end is still being fetched')
  t.notOk(endMustWait({ ...base, pending: 1001 }), 'a change announced after the end does not hold it')
  t.notOk(endMustWait({ ...base, pending: 900, now: 1000 + MAX_HOLD_MS }), 'a pending fetch holds the end for MAX_HOLD_MS only')
})

t.test('CallDeadlines: fires when due, polls while the end waits, re-arms, clears and stops', async (t) => {
  const clock = new FakeClock(0)
  const d = new CallDeadlines(clock)
  const fired: string[] = []
  let wait = true
  d.arm(1, 100, () => wait, (due) => { fired.push(`1@${due} now ${clock.now()}`) })
  d.arm(1, 100, () => false, () => { fired.push('not re-armed for the same moment') })
  await clock.advance(100)
  t.same(fired, [], 'due, but waiting')
  wait = false
  await clock.advance(HOLD_POLL_MS)
  t.same(fired, [`1@100 now ${100 + HOLD_POLL_MS}`], 'fired at the next poll')
  d.arm(2, 300, () => false, () => { fired.push('2 at 300') })
  d.arm(2, 400, () => false, () => { fired.push('2 at 400') })
  d.arm(3, 400, () => false, () => { fired.push('3') })
  d.clear(3)
  d.arm(4, null, () => false, () => { fired.push('4') })
  await clock.advance(1000)
  t.same(fired.slice(1), ['2 at 400'], 're-armed for the later moment; cleared and null timers do not fire')
  d.arm(5, 2000, () => false, () => { fired.push('5') })
  d.stop()
  d.arm(6, 2000, () => false, () => { fired.push('6') })
  await clock.advance(5000)
  t.equal(fired.length, 2, 'nothing fires after stop()')
  t.equal(clock.pending, 0)
})

t.test('CallDeadlines: a timer that ran late looks once more, counting changes read after it as come before the end', async (t) => {
  const clock = new FakeClock(0)
  const d = new CallDeadlines(clock)
  const fired: number[] = []
  // A change announced but not fetched yet: read only when the event loop got to the socket.
  let pending: number | null = null
  const waits = (due: number): boolean => endMustWait({ due, now: clock.now(), held: false, pending, blind: null })
  d.arm(1, 300, waits, (due) => { fired.push(due) })
  clock.stall(1000)
  // The busy loop ends: timers run first (the late check), then the socket read brings the change.
  await clock.advance(0)
  pending = clock.now()
  await clock.advance(1)
  t.same(fired, [], 'the end waits for the change the PBX sent before it was due')
  pending = null
  await clock.advance(HOLD_POLL_MS)
  t.same(fired, [300], 'and ends, at its due time, once the change is in (had it continued the call, the call would go on)')

  // On time, a change that arrives after the end was due does not hold it.
  d.arm(2, 2000, waits, (due) => { fired.push(due) })
  await clock.advance(2000 - clock.now())
  t.same(fired, [300, 2000], 'an end on time fires at once')
})
