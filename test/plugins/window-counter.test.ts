import t from 'tap'
import { WindowCounter } from '../../src/plugins/app/window-counter.js'

t.test('counts per key in fixed windows that open at the first request', async (t) => {
  let now = 1_000_000
  const c = new WindowCounter(3, 60_000, () => now)
  t.same([c.hit('a'), c.hit('a'), c.hit('a')], [0, 0, 0], 'up to max passes')
  now += 20_500
  t.equal(c.hit('a'), 40, 'over max: seconds until the window ends, rounded up')
  t.equal(c.hit('b'), 0, 'another key has its own window')
  now += 39_000
  t.equal(c.hit('a'), 1, 'never less than 1 s')
  now += 500
  t.equal(c.hit('a'), 0, 'a new window opens when the old one has ended')
  t.same([c.hit('a'), c.hit('a'), c.hit('a') > 0], [0, 0, true])
})
