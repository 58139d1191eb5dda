// The model's memory of unread participants that went away: bounded in time and in count.
import t from 'tap'
import { UnreadGone } from '../../src/calls/unread-gone.js'

t.test('remembers 10 minutes and at most 1,000', async (t) => {
  const u = new UnreadGone()
  t.notOk(u.since(0), 'nothing yet')
  u.note(1000)
  t.ok(u.since(1000), 'one at the moment asked about counts')
  t.notOk(u.since(1001), 'one before it does not')
  u.note(1000 + 10 * 60_000 + 1)
  t.equal(u.size, 1, 'the first is forgotten after 10 minutes')
  t.ok(u.since(1000 + 10 * 60_000))
  const many = new UnreadGone()
  for (let i = 0; i < 1001; i++) many.note(5000 + i)
  t.equal(many.size, 1000, 'the oldest of 1,001 is forgotten')
  t.ok(many.since(6000))
})
