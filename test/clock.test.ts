import t from 'tap'
import { systemClock, sleep } from '../src/clock.js'
import { FakeClock } from './fake-clock.js'

t.test('fake time fires timers in order and lets promises settle between them', async t => {
  const clock = new FakeClock(1000)
  const seen: string[] = []
  clock.setTimeout(() => seen.push('b@' + clock.now()), 20)
  clock.setTimeout(() => seen.push('a@' + clock.now()), 10)
  const cancelled = clock.setTimeout(() => seen.push('never'), 15)
  clock.clearTimeout(cancelled)
  const tick = clock.setInterval(() => seen.push('tick@' + clock.now()), 8)
  void sleep(clock, 12).then(async () => { await Promise.resolve(); seen.push('slept@' + clock.now()) })
  await clock.advance(20)
  clock.clearInterval(tick)
  t.same(seen, ['tick@1008', 'a@1010', 'slept@1012', 'tick@1016', 'b@1020'])
  t.equal(clock.now(), 1020)
  t.equal(clock.pending, 0)
  await clock.advance(100)
  t.equal(seen.length, 5, 'a cleared interval stays quiet')
})

t.test('the system clock is real time', async t => {
  const before = systemClock.now()
  const handle = systemClock.setTimeout(() => {}, 5).unref()
  systemClock.clearTimeout(handle)
  const every = systemClock.setInterval(() => {}, 5)
  systemClock.clearInterval(every)
  // sleep() does not keep the process alive by itself (call-model waits must not hold shutdown), so hold it here.
  const keepAlive = setTimeout(() => {}, 10_000)
  await sleep(systemClock, 5)
  clearTimeout(keepAlive)
  t.ok(systemClock.now() >= before + 4)
})

t.test('a sleep with a signal rejects with its reason when aborted, and at once when already aborted', async t => {
  const clock = new FakeClock(0)
  const ac = new AbortController()
  const slept = sleep(clock, 10_000, { signal: ac.signal, keepAlive: true })
  t.equal(clock.pending, 1)
  ac.abort(new Error('stop'))
  await t.rejects(slept, { message: 'stop' })
  t.equal(clock.pending, 0, 'its timer is cleared')
  await t.rejects(sleep(clock, 10, { signal: ac.signal }), { message: 'stop' })
  t.equal(clock.pending, 0)
  const done = new AbortController()
  const woke = sleep(clock, 10, { signal: done.signal })
  await clock.advance(10)
  await woke
  done.abort(new Error('late'))
  t.pass('an abort after waking changes nothing')
})
