// Console sessions (pure, with a fake clock) and the cookie / CSRF helpers.
import t from 'tap'
import { sameToken, SessionStore } from '../../src/console/session-store.js'
import { readCookie, sessionCookie } from '../../src/console/console-session.js'

const READ = { id: 'key#1', scope: 'read' as const }

t.test('create, get, idle expiry, delete', async (t) => {
  let now = 1000
  const store = new SessionStore({ idleMs: 100, now: () => now })
  const s = store.create(READ)
  t.match(s.id, /^[A-Za-z0-9_-]{43}$/)
  t.match(s.csrfToken, /^[A-Za-z0-9_-]{43}$/)
  t.not(s.id, s.csrfToken)
  t.same(Object.keys(s).sort(), ['csrfToken', 'id', 'key', 'lastSeenAt'], 'no key material stored')
  t.equal(store.get(s.id), s)
  t.equal(store.get(undefined), null)
  t.equal(store.get('unknown'), null)
  now += 90
  t.equal(store.get(s.id), s, 'use restarts the idle time')
  now += 90
  t.equal(store.get(s.id), s)
  now += 101
  t.equal(store.get(s.id), null, 'idle too long: gone')
  t.equal(store.size, 0, 'and forgotten')
  const s2 = store.create(READ)
  store.delete(s2.id)
  t.equal(store.get(s2.id), null)
})

t.test('at most `max` sessions: the least recently used go first', async (t) => {
  const store = new SessionStore({ max: 2 })
  const a = store.create(READ)
  const b = store.create(READ)
  t.ok(store.get(a.id), 'a used after b')
  const c = store.create(READ)
  t.equal(store.size, 2)
  t.equal(store.get(b.id), null, 'b was the least recently used')
  t.ok(store.get(a.id))
  t.ok(store.get(c.id))
})

t.test('sameToken', async (t) => {
  t.ok(sameToken('abc', 'abc'))
  t.notOk(sameToken('abc', 'abd'))
  t.notOk(sameToken('abc', 'abcd'), 'different lengths')
})

t.test('cookies', async (t) => {
  t.equal(readCookie(undefined, 'gw_console'), undefined)
  t.equal(readCookie('a=1; gw_console=xyz; b=2', 'gw_console'), 'xyz')
  t.equal(readCookie('gw_console_other=1;gw_console= v ', 'gw_console'), 'v')
  t.equal(readCookie('novalue; x=1', 'gw_console'), undefined)
  t.equal(sessionCookie('abc', false), 'gw_console=abc; Path=/console; HttpOnly; SameSite=Strict')
  t.equal(sessionCookie('abc', true), 'gw_console=abc; Path=/console; HttpOnly; SameSite=Strict; Secure', 'Secure over TLS')
  t.equal(sessionCookie('', true), 'gw_console=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0; Secure', 'clearing')
})
