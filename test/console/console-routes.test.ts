// The console's routes through app.inject on the whole demo gateway: the page, log in and out,
// the session cookie, CSRF, scopes, every API route, the live SSE feed, and the key never echoed
// or logged.
import t from 'tap'
import { CONTROL_KEY, login, placeCall, READ_KEY, startConsoleGateway } from './console-harness.js'
import type { RecordingService } from '../../src/recordings/recording-service.js'
import { READ_KEY as LEGACY_READ_KEY, startAppOnSimulator } from '../legacy/legacy-harness.js'

const API_GETS = ['/console/api/session', '/console/api/calls', '/console/api/directory', '/console/api/recordings', '/console/api/system', '/console/api/webhooks/deliveries', '/console/events']

t.test('the page, log in, scopes, CSRF, log out', async (t) => {
  const c = await startConsoleGateway(t)
  const { app } = c

  const root = await app.inject({ url: '/' })
  t.equal(root.statusCode, 302, 'GET / leads to the console')
  t.equal(root.headers.location, '/console/')
  const bare = await app.inject({ url: '/console' })
  t.equal(bare.statusCode, 302)
  t.equal(bare.headers.location, '/console/')
  const page = await app.inject({ url: '/console/' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, /<script src="\/console\/console.js"/)
  t.match(page.headers['content-security-policy'], /default-src 'self'/, 'the API\'s security headers')
  t.equal((await app.inject({ url: '/console/console.js' })).statusCode, 200)
  t.equal((await app.inject({ url: '/console/console.css' })).statusCode, 200)
  const docs = await app.inject({ url: '/docs/json' })
  t.notMatch(docs.body, '/console/api', 'the console API stays out of /docs')

  for (const url of API_GETS) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 401, `${url} without a session`)
    t.match(res.json(), { result: false, error: { code: 'UNAUTHORIZED' } })
    const forged = await app.inject({ url, headers: { cookie: 'gw_console=forged' } })
    t.equal(forged.statusCode, 401, `${url} with a made-up session`)
  }
  const withKey = await app.inject({ url: '/console/api/calls', headers: { 'x-api-key': CONTROL_KEY } })
  t.equal(withKey.statusCode, 401, 'the API key alone does not open the console API')

  const wrong = await app.inject({ method: 'POST', url: '/console/api/login', payload: { key: 'wrong-key-0000000000' } })
  t.equal(wrong.statusCode, 401)
  t.match(wrong.json(), { error: { code: 'UNAUTHORIZED', message: /log in with one of the gateway's keys/ } })
  t.notMatch(wrong.body, 'wrong-key-0000000000', 'a wrong key is not echoed')
  t.notOk(wrong.headers['set-cookie'], 'no cookie for a wrong key')
  const empty = await app.inject({ method: 'POST', url: '/console/api/login', payload: {} })
  t.equal(empty.statusCode, 400)
  t.match(empty.json(), { error: { code: 'BAD_PARAMETER' } })

  const long = `${READ_KEY}${'x'.repeat(600)}`
  const tooLong = await app.inject({ method: 'POST', url: '/console/api/login', payload: { key: long } })
  t.equal(tooLong.statusCode, 400)
  t.notMatch(tooLong.body, READ_KEY, 'an ill-formed key is not echoed either')
  const form = await app.inject({ method: 'POST', url: '/console/api/login', payload: `key=${READ_KEY}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(form.statusCode, 415, 'JSON only')
  t.match(form.json(), { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: /Content-Type: application\/json/ } }, 'says what to send')
  const notJson = await app.inject({ method: 'POST', url: '/console/api/login', payload: `key=${READ_KEY}`, headers: { 'content-type': 'application/json' } })
  t.match([notJson.statusCode, notJson.json()], [400, { error: { code: 'BAD_REQUEST', message: 'The body is not valid JSON' } }])
  t.notMatch(notJson.body, READ_KEY)
  t.notMatch(form.body, READ_KEY)

  const read = await login(app, READ_KEY)
  t.match(read.setCookie, /^gw_console=[A-Za-z0-9_-]{43}; Path=\/console; HttpOnly; SameSite=Strict$/, 'HttpOnly, SameSite=Strict, Path=/console, not Secure over plain HTTP')
  t.match(JSON.parse(read.body), { keyId: 'key#1', scope: 'read' })
  t.notMatch(read.body, READ_KEY, 'the key is not echoed')
  const rh = { cookie: read.cookie }

  const session = await app.inject({ url: '/console/api/session', headers: rh })
  t.same(session.json(), { keyId: 'key#1', scope: 'read', csrfToken: read.csrf })
  t.equal(session.headers['cache-control'], 'no-store')

  // Acting: CSRF first, then the scope.
  const noCsrf = await app.inject({ method: 'POST', url: '/console/api/webhooks/targets/webhook1/test', headers: rh })
  t.equal(noCsrf.statusCode, 403)
  t.match(noCsrf.json(), { error: { code: 'CSRF_REFUSED' } })
  const badCsrf = await app.inject({ method: 'POST', url: '/console/api/webhooks/targets/webhook1/test', headers: { ...rh, 'x-csrf-token': 'x'.repeat(43) } })
  t.match(badCsrf.json(), { error: { code: 'CSRF_REFUSED' } })
  const readActs = await app.inject({ method: 'POST', url: '/console/api/webhooks/targets/webhook1/test', headers: { ...rh, 'x-csrf-token': read.csrf } })
  t.equal(readActs.statusCode, 403)
  t.match(readActs.json(), { error: { code: 'FORBIDDEN_SCOPE' } })
  const readRedeliver = await app.inject({ method: 'POST', url: '/console/api/webhooks/deliveries/1/redeliver', headers: { ...rh, 'x-csrf-token': read.csrf } })
  t.match(readRedeliver.json(), { error: { code: 'FORBIDDEN_SCOPE' } })
  t.equal(c.receiver.all.length, 0, 'nothing was sent')

  const ctl = await login(app, CONTROL_KEY)
  const ch = { cookie: ctl.cookie, 'x-csrf-token': ctl.csrf }
  t.not(ctl.cookie, read.cookie, 'every login is its own session')
  t.equal((await app.inject({ method: 'POST', url: '/console/api/webhooks/targets/webhook1/test', headers: { ...ch, 'x-csrf-token': read.csrf } })).statusCode, 403, 'another session\'s CSRF token is refused')

  // Log out: needs CSRF; afterwards the session is gone and the cookie cleared.
  const logoutNoCsrf = await app.inject({ method: 'POST', url: '/console/api/logout', headers: rh })
  t.match(logoutNoCsrf.json(), { error: { code: 'CSRF_REFUSED' } })
  const logout = await app.inject({ method: 'POST', url: '/console/api/logout', headers: { ...rh, 'x-csrf-token': read.csrf } })
  t.equal(logout.statusCode, 200)
  t.match(String(logout.headers['set-cookie']), /^gw_console=; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=0$/)
  t.equal((await app.inject({ url: '/console/api/session', headers: rh })).statusCode, 401, 'the session has ended')
  t.equal((await app.inject({ url: '/console/api/session', headers: { cookie: ctl.cookie } })).statusCode, 200, 'other sessions live on')

  const logs = c.logs()
  t.ok(logs.length > 0)
  for (const key of [READ_KEY, CONTROL_KEY, 'wrong-key-0000000000', read.cookie.split('=')[1], read.csrf]) t.notMatch(logs, key, 'no key, session id or CSRF token in the log')
})

t.test('a session lives on while its key stays configured, wherever it moves; it ends for good when its key goes or changes scope', async (t) => {
  const { app } = await startConsoleGateway(t)
  const EXTRA_KEY = 'console-extra-3b8e1f6a9c2d4e70'
  const read = await login(app, READ_KEY)
  const ctl = await login(app, CONTROL_KEY)
  const keyOf = async (l: { cookie: string }): Promise<string | number> => {
    const r = await app.inject({ url: '/console/api/session', headers: { cookie: l.cookie } })
    return r.statusCode === 200 ? r.json().keyId : r.statusCode
  }
  t.same([await keyOf(read), await keyOf(ctl)], ['key#1', 'key#2'])

  // The read key goes: the control key, which stays, moves from second to first.
  app.apiKeys.replaceKeys([{ key: CONTROL_KEY, scope: 'control' }])
  t.equal(await keyOf(read), 401, 'the session of the key that went has ended')
  t.equal(await keyOf(ctl), 'key#1', 'the session of the key that stayed goes on, under its label now')
  const acts = await app.inject({ method: 'POST', url: '/console/api/webhooks/targets/webhook1/test', headers: { cookie: ctl.cookie, 'x-csrf-token': ctl.csrf } })
  t.equal(acts.statusCode, 200, 'and may still act')

  // A key added in front moves it again; the read key comes back.
  app.apiKeys.replaceKeys([{ key: EXTRA_KEY, scope: 'read' }, { key: READ_KEY, scope: 'read' }, { key: CONTROL_KEY, scope: 'control' }])
  t.equal(await keyOf(ctl), 'key#3', 'moved twice, still the same session')
  t.equal(await keyOf(read), 401, 'a session that ended with its key does not come back with it')
  const again = await login(app, READ_KEY)
  t.equal(await keyOf(again), 'key#2', 'a new login with the returned key works')

  // The control key stays, but may only read now: a control session must not keep acting.
  app.apiKeys.replaceKeys([{ key: READ_KEY, scope: 'read' }, { key: CONTROL_KEY, scope: 'read' }])
  t.equal(await keyOf(ctl), 401, 'a key that changed scope ends its sessions')
  t.equal(await keyOf(again), 'key#1', 'the read key, moved to the front, keeps its new session')
})

t.test('webhook views, test event, redeliver, consecutive failures', async (t) => {
  const c = await startConsoleGateway(t)
  const { app } = c
  const ctl = await login(app, CONTROL_KEY)
  const ch = { cookie: ctl.cookie, 'x-csrf-token': ctl.csrf }

  const test = await app.inject({ method: 'POST', url: '/console/api/webhooks/targets/webhook1/test', headers: ch })
  t.equal(test.statusCode, 200)
  t.match(test.json(), { result: true, target: 'webhook1', statusCode: 200, error: null, messageId: /^msg_test_/ })
  t.equal(c.receiver.all.length, 1)
  const sent = c.receiver.all[0]
  t.match(JSON.parse(sent.body), { event: 'test', id: 'test' })
  t.match(sent.headers['webhook-signature'], /^v1,/, 'signed with the target\'s secret')
  t.notMatch(test.body, /whsec_/, 'the secret is never in the answer')
  const unknown = await app.inject({ method: 'POST', url: '/console/api/webhooks/targets/nope/test', headers: ch })
  t.equal(unknown.statusCode, 404)
  t.match(unknown.json(), { error: { code: 'NOT_FOUND', message: /webhook1/ } })

  // The same route on the API, with the control key.
  const viaApi = await app.inject({ method: 'POST', url: '/webhooks/targets/webhook1/test', headers: { 'x-api-key': CONTROL_KEY } })
  t.equal(viaApi.statusCode, 200)
  c.reply.status = 503
  const failing = await app.inject({ method: 'POST', url: '/webhooks/targets/webhook1/test', headers: { 'x-api-key': CONTROL_KEY } })
  t.match(failing.json(), { result: false, statusCode: 503, error: 'HTTP 503' }, 'a failed test event says why')

  // A call's events to a failing receiver: the target shows its consecutive failures.
  await placeCall(c.gw, 300)
  const list = async (q = ''): Promise<{ deliveries: Array<{ id: number, status: string }>, targets: Array<{ name: string, state: string, consecutiveFailures: number, queued: number, retrying: number, lastSuccessAt: string | null }> }> =>
    (await app.inject({ url: `/console/api/webhooks/deliveries${q}`, headers: { cookie: ctl.cookie } })).json()
  const until = Date.now() + 10_000
  while ((await list()).targets[0].consecutiveFailures < 2 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50))
  const body = await list()
  t.match(body.targets, [{ name: 'webhook1', state: 'failing', lastSuccessAt: null }])
  t.ok(body.targets[0].consecutiveFailures >= 2, 'consecutive failures counted')
  // An attempt in flight is counted before the log records it: compare a settled answer.
  let retrying = await list('?status=retrying&limit=1000')
  const until3 = Date.now() + 10_000
  while (retrying.targets[0].retrying !== retrying.deliveries.length && Date.now() < until3) retrying = await list('?status=retrying&limit=1000')
  t.ok(retrying.deliveries.length > 0, 'deliveries are retrying')
  t.equal(retrying.targets[0].retrying, retrying.deliveries.length, 'the target counts the deliveries the log lists as retrying')
  t.ok(retrying.targets[0].retrying <= retrying.targets[0].queued, 'retrying ones are among the waiting ones')
  t.ok(body.deliveries.length > 0)
  t.equal((await app.inject({ url: '/console/api/webhooks/deliveries?status=bogus', headers: { cookie: ctl.cookie } })).statusCode, 400)

  c.reply.status = 200
  const id = body.deliveries[0].id
  const again = await app.inject({ method: 'POST', url: `/console/api/webhooks/deliveries/${id}/redeliver`, headers: ch })
  t.same(again.json(), { result: true, id, status: 'pending' })
  const until2 = Date.now() + 10_000
  while ((await list()).targets[0].consecutiveFailures > 0 && Date.now() < until2) await new Promise((resolve) => setTimeout(resolve, 50))
  const recovered = Date.now() + 10_000
  while ((await list()).targets[0].retrying > 0 && Date.now() < recovered) await new Promise((resolve) => setTimeout(resolve, 50))
  t.match((await list()).targets, [{ state: 'ok', consecutiveFailures: 0, retrying: 0, lastSuccessAt: /^\d{4}-\d\d-\d\dT/ }], 'recovered')
  t.notMatch(c.logs(), /whsec_/, 'the secret is never logged')
})

t.test('calls, live feed, system, recordings', async (t) => {
  const c = await startConsoleGateway(t, { RECORDINGS_SOURCE: 'xapi' })
  const { app, gw } = c
  const read = await login(app, READ_KEY)
  const rh = { cookie: read.cookie }

  const system = await app.inject({ url: '/console/api/system', headers: rh })
  t.equal(system.statusCode, 200)
  t.match(system.json(), { ready: true, mode: 'demo', callsInProgress: 0, outboxDepth: 0, pbxVersion: /^20\./, checks: { pbx: { ok: true }, websocket: { ok: true } }, stream: { role: 'single' } })
  const disks = system.json().disks as Array<{ path: string, freeBytes: number | null }>
  t.equal(disks.length, 2)
  for (const d of disks) t.ok((d.freeBytes ?? -1) >= 0, `free space of ${d.path}`)

  // The live feed over real HTTP: the list at once, then every change, without asking again.
  const ac = new AbortController()
  t.teardown(() => { ac.abort() })
  const res = await fetch(`${gw.url}/console/events`, { headers: rh, signal: ac.signal })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/event-stream/)
  const reader = res.body?.getReader()
  if (reader === undefined) throw new Error('no body')
  let buffered = ''
  const nextCalls = async (): Promise<Array<{ caller: string, callee: string, state: string, via: string }>> => {
    for (;;) {
      const end = buffered.indexOf('\n\n')
      if (end !== -1) {
        const message = buffered.slice(0, end)
        buffered = buffered.slice(end + 2)
        const data = /^event: calls\ndata: (.*)$/s.exec(message)
        if (data !== null) return (JSON.parse(data[1]) as { calls: Array<{ caller: string, callee: string, state: string, via: string }> }).calls
        continue
      }
      const { value, done } = await reader.read()
      if (done === true) throw new Error('the feed ended')
      buffered += new TextDecoder().decode(value)
    }
  }
  t.same(await nextCalls(), [], 'no calls at first')
  await placeCall(gw, 800)
  let calls = await nextCalls()
  t.equal(calls.length, 1, 'the call appears')
  t.equal(calls[0].caller, '+15557654321')
  const states = new Set([calls[0].state])
  while (calls.length > 0) {
    calls = await nextCalls()
    if (calls.length > 0) states.add(calls[0].state)
  }
  t.ok(states.has('talking'), `seen talking (${[...states].join(', ')})`)
  t.pass('the call leaves the feed when it ends')

  const directory = await app.inject({ url: '/console/api/directory', headers: rh })
  t.equal(directory.statusCode, 200)
  t.match(directory.json(), { extensions: [{ number: '100', registered: true, queueStatus: 'LoggedIn', profile: 'Available' }], queues: [{ number: '800', name: 'Sales', agents: ['101', '102', '103'] }] })

  const snapshot = await app.inject({ url: '/console/api/calls', headers: rh })
  t.match(snapshot.json(), { calls: [] })

  // Recordings: the newest first, bounded.
  const recordings = gw.services.recordings as RecordingService
  const index = recordings.index
  for (let i = 1; i <= 3; i++) {
    const leg = { callid: 900 + i, chid: `261121083716_${900 + i}`, legacyId: `261121083716_${900 + i}-0`, dn: '101', participantIds: [i], startedAt: i * 1000, endedAt: i * 1000 + 500 }
    await index.addLeg(leg)
    const [row] = await index.settleLeg(`${leg.legacyId}/101`, [{ sourceRef: `test:${i}`, recordedAt: i * 1000, wavPath: null, xapiId: null }])
    await index.markConverted(row.id, 1000 * i)
  }
  const latest = await app.inject({ url: '/console/api/recordings?limit=2', headers: rh })
  t.equal(latest.statusCode, 200)
  t.match(latest.json(), { enabled: true, recordings: [{ fileName: '261121083716_903-0-1.mp3', dn: '101', bytes: 3000, url: /^\/recordings\/[A-Za-z0-9_-]{24}\/261121083716_903-0-1\.mp3$/ }, { fileName: '261121083716_902-0-1.mp3' }] })
  t.equal(latest.json().recordings.length, 2)
  t.equal((await app.inject({ url: '/console/api/recordings?limit=5000', headers: rh })).statusCode, 400, 'the limit is bounded')
})

t.test('behind a TLS proxy, without outbox or recordings, failed logins throttled', async (t) => {
  // The legacy harness: the API alone (no outbox, no recordings service), TRUST_PROXY on.
  const gw = await startAppOnSimulator(t, { env: { TRUST_PROXY: 'on' }, auth: { maxFailures: 2 } })
  const res = await gw.app.inject({ method: 'POST', url: '/console/api/login', payload: { key: LEGACY_READ_KEY }, headers: { 'x-forwarded-proto': 'https' } })
  t.equal(res.statusCode, 200)
  t.match(String(res.headers['set-cookie']), /; Secure$/, 'Secure when the browser came over https')
  const cookie = String(res.headers['set-cookie']).split(';')[0]
  t.match((await gw.app.inject({ url: '/console/api/recordings', headers: { cookie } })).json(), { enabled: false, recordings: [] })
  t.equal((await gw.app.inject({ url: '/console/api/webhooks/deliveries', headers: { cookie } })).statusCode, 404, 'no webhook views without an outbox')
  t.match((await gw.app.inject({ url: '/console/api/system', headers: { cookie } })).json(), { ready: true, outboxDepth: null, callsInProgress: 0 })

  const codes: number[] = []
  for (let i = 0; i < 4; i++) codes.push((await gw.app.inject({ method: 'POST', url: '/console/api/login', payload: { key: `guess-${i}-0000000000000` } })).statusCode)
  t.same(codes, [401, 401, 429, 429], 'wrong keys at the login count like wrong API keys')
})
