// Caller input the tester found answered 502: repeated parameters, an absurd skip, a five-year
// range, PBX refusals of a makecall and device ids that would change a PBX path. Each now gets a
// 4xx with a stable code and a sentence naming the parameter.
import t from 'tap'
import type { AddressInfo } from 'node:net'
import { CONTROL_KEY, startAppOnSimulator, type AppOnSimulator } from '../legacy/legacy-harness.js'
import { PBX } from '../sim/pbx-under-test.js'
import { rawGet, type RawAnswer } from '../http-raw.js'

// The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
// A and B have a registered phone, OFF has none.
const [A, B, OFF] = ['101', '102', '115'].map((n) => PBX.n(n))

const ask = async (gw: AppOnSimulator, url: string): Promise<{ status: number, code: string, message: string }> => {
  const r = await gw.app.inject({ url, headers: { 'x-api-key': CONTROL_KEY } })
  const body = r.json()
  return { status: r.statusCode, code: body.error?.code ?? '', message: body.error?.message ?? '' }
}

t.test('a repeated parameter is 400 DUPLICATE_PARAMETER naming it, on every kind of route', async (t) => {
  const gw = await startAppOnSimulator(t)
  const D = '2026-11-01'
  const cases: Array<[string, string]> = [
    [`/report.calllog.get?from=${D}&from=${D}&to=${D}`, 'from'],
    [`/report.calllog.get?from=${D}&to=${D}&top=5&top=5`, 'top'],
    [`/recordings.list.get?from=${D}&to=${D}&to=${D}`, 'to'],
    [`/ext.info.get?num=${A}&num=${A}`, 'num'],
    [`/makecall?first=${A}&second=${B}&second=${B}`, 'second'],
    [`/webapi/${CONTROL_KEY}/ext.state.get?num=${A}&%6eum=${B}`, 'num'],
    // A PHP-style list beside the plain name: which one was meant is not guessed.
    [`/ext.state.get?num=${A}&num[]=${B}`, 'num'],
    [`/ext.state.get?num%5B0%5D=${B}&num=${A}`, 'num']
  ]
  const before = gw.sim.ctx.requestLog.length
  for (const [url, param] of cases) {
    t.same(await ask(gw, url), { status: 400, code: 'DUPLICATE_PARAMETER', message: `Parameter "${param}" is given 2 times; give it once` }, url)
  }
  t.equal(gw.sim.ctx.requestLog.length, before, 'nothing reached the PBX')
})

t.test('the key itself repeated in the query is 400 DUPLICATE_PARAMETER, not 401 "missing or invalid"', async (t) => {
  const gw = await startAppOnSimulator(t)
  for (const url of [`/pbx.calls.get?key=${CONTROL_KEY}&key=${CONTROL_KEY}`, `/pbx.calls.get?%6bey=${CONTROL_KEY}&key=wrong`]) {
    const r = await gw.app.inject({ url })
    t.equal(r.statusCode, 400, url.replace(CONTROL_KEY, 'KEY'))
    t.same(r.json().error, { code: 'DUPLICATE_PARAMETER', message: 'Parameter "key" is given 2 times; give it once' })
    t.notOk(r.body.includes(CONTROL_KEY), 'the key is not echoed')
  }
  t.equal((await gw.app.inject({ url: `/pbx.calls.get?key=${CONTROL_KEY}` })).statusCode, 200, 'given once, it authenticates')
})

t.test('the X-API-Key header sent twice, or with two keys in one, is 400 DUPLICATE_PARAMETER, not 401', async (t) => {
  const gw = await startAppOnSimulator(t, { listen: true })
  const port = (gw.app.server.address() as AddressInfo).port
  // Over a real socket: two header lines as a client sends them (Node joins them with ", ").
  const raw = async (headerLines: string[]): Promise<RawAnswer> => await rawGet(port, '/pbx.calls.get', ['Connection: close', ...headerLines])
  const before = gw.sim.ctx.requestLog.length
  const cases: Array<[string, string[], number]> = [
    ['the same key twice', [`X-API-Key: ${CONTROL_KEY}`, `X-API-Key: ${CONTROL_KEY}`], 2],
    ['a right and a wrong key', [`x-api-key: ${CONTROL_KEY}`, 'X-Api-Key: wrong-key-0123456789'], 2],
    ['three keys joined by the client', [`X-API-Key: ${CONTROL_KEY},${CONTROL_KEY}, x`], 3]
  ]
  for (const [what, lines, count] of cases) {
    const r = await raw(lines)
    t.equal(r.status, 400, what)
    t.same(JSON.parse(r.body).error, { code: 'DUPLICATE_PARAMETER', message: `Header "X-API-Key" is given ${count} times; give it once` }, what)
    t.notOk(r.body.includes(CONTROL_KEY), 'the key is not echoed')
  }
  t.equal(gw.sim.ctx.requestLog.length, before, 'nothing reached the PBX')
  t.equal((await raw([`X-API-Key: ${CONTROL_KEY}`])).status, 200, 'given once, it authenticates')
})

t.test('a client that half-closes after its request gets the answer of a method that waits on the PBX', async (t) => {
  // `printf 'GET …' | nc`: Node's HTTP server dropped an unanswered request when the client's side ended.
  const gw = await startAppOnSimulator(t, { listen: true })
  const port = (gw.app.server.address() as AddressInfo).port
  const key = `X-API-Key: ${CONTROL_KEY}`
  const info = await rawGet(port, `/ext.info.get?num=${A}`, [key])
  t.equal(info.status, 200, info.text.slice(0, 200))
  t.equal(JSON.parse(info.body).num, A)
  const call = await rawGet(port, `/makecall?first=${A}&second=${B}`, [key])
  t.equal(call.status, 200, call.text.slice(0, 200))
  t.equal(JSON.parse(call.body).result, true, 'the call was placed and said so')
  t.equal((await rawGet(port, '/pbx.calls.get', [key])).status, 200, 'and the cached ones, as before')
})

t.test('parameter names in any case, or as a one-value list name[], are read as the routes spell them', async (t) => {
  // A client written for the .NET generator (whose query names ignore case) or a PHP client (name[]).
  const gw = await startAppOnSimulator(t)
  const D = '2026-11-01'
  const same = async (url: string, as: string): Promise<void> => {
    const a = await gw.app.inject({ url, headers: { 'x-api-key': CONTROL_KEY } })
    const b = await gw.app.inject({ url: as, headers: { 'x-api-key': CONTROL_KEY } })
    t.equal(a.statusCode, 200, `${url}: ${a.body.slice(0, 200)}`)
    t.same(a.json(), b.json(), `${url} answers as ${as}`)
  }
  await same(`/ext.state.get?NUM=${A}`, `/ext.state.get?num=${A}`)
  await same(`/ext.info.get?Num[]=${A}`, `/ext.info.get?num=${A}`)
  await same(`/report.calllog.get?FROM=${D}&To=${D}&Top=5`, `/report.calllog.get?from=${D}&to=${D}&top=5`)
  for (const url of [`/pbx.calls.get?KEY=${CONTROL_KEY}`, `/pbx.calls.get?Key=${CONTROL_KEY}`, `/webapi/${CONTROL_KEY}/ext.state.get?Num=${A}`]) {
    t.equal((await gw.app.inject({ url })).statusCode, 200, `${url.replace(CONTROL_KEY, 'KEY')}: the key and the number are found`)
  }
  // Two spellings of one name are the name twice: refused, never a guess which one was meant.
  t.same(await ask(gw, `/ext.state.get?num=${A}&NUM=${B}`), { status: 400, code: 'DUPLICATE_PARAMETER', message: 'Parameter "num" is given 2 times; give it once' })
  t.same(await ask(gw, `/ext.state.get?Num[]=${A}&num[]=${B}`), { status: 400, code: 'DUPLICATE_PARAMETER', message: 'Parameter "num" is given 2 times; give it once' })
  const keys = await gw.app.inject({ url: `/pbx.calls.get?key=${CONTROL_KEY}&KEY=wrong` })
  t.same([keys.statusCode, keys.json().error.code], [400, 'DUPLICATE_PARAMETER'], 'the key under two spellings')
  t.notOk(keys.body.includes(CONTROL_KEY), 'the key is not echoed')
})

t.test('report skip and span bounds are 400s naming the parameter and the maximum', async (t) => {
  const gw = await startAppOnSimulator(t)
  const skip = await ask(gw, '/report.calllog.get?from=2026-11-01&to=2026-11-02&skip=99999999999')
  t.same([skip.status, skip.code], [400, 'BAD_PARAMETER'])
  t.match(skip.message, /Parameter "skip".*from 0 to 10000000/)
  const before = gw.sim.ctx.requestLog.length
  const span = await ask(gw, '/report.calllog.get?from=2021-01-01&to=2025-12-30')
  t.same([span.status, span.code], [400, 'BAD_PARAMETER'])
  t.match(span.message, /Parameter "to" is more than 366 days after from; ask for at most 366 days at a time \(REPORT_MAX_SPAN_DAYS/)
  t.equal(gw.sim.ctx.requestLog.length, before, 'no PBX query for a refused range')
  const year = await gw.app.inject({ url: '/report.calllog.get?from=2025-01-01&to=2025-12-31', headers: { 'x-api-key': CONTROL_KEY } })
  t.equal(year.statusCode, 200, 'a whole year is fine')
  t.ok(gw.sim.ctx.requestLog.length - before <= 53, `a year costs at most 53 PBX queries (${gw.sim.ctx.requestLog.length - before})`)
})

t.test('makecall: bad numbers are 400 naming "second", PBX refusals 422 PBX_REJECTED, never 502', async (t) => {
  const gw = await startAppOnSimulator(t, { auth: { perKeyMax: 10_000 } })
  const local: Array<[string, RegExp]> = [
    ['*', /Parameter "second" is ill-formed.*at least one digit/],
    ['%23', /Parameter "second" is ill-formed/],
    ['1'.repeat(24), /Parameter "second" is ill-formed.*at most 20/],
    [A, new RegExp(`Parameter "second" is the calling extension ${A} itself`)]
  ]
  for (const [second, message] of local) {
    const r = await ask(gw, `/makecall?first=${A}&second=${second}`)
    t.same([r.status, r.code], [400, 'BAD_PARAMETER'], `second=${second}`)
    t.match(r.message, message)
  }
  // The simulator, like 3CX, refuses numbers it cannot dial.
  for (const second of ['0', '-1']) {
    const r = await ask(gw, `/makecall?first=${A}&second=${second}`)
    t.same([r.status, r.code], [422, 'PBX_REJECTED'], `second=${second}`)
    t.match(r.message, new RegExp(`^The PBX refused to place the call from ${A} to \\d+: .*check "second"`))
  }
})

t.test('makecall: a device id of . or .. never reaches the PBX as a path', async (t) => {
  const gw = await startAppOnSimulator(t)
  for (const contact of ['..', '.', '%2E%2E']) {
    const r = await ask(gw, `/makecall?first=${A}&second=${B}&contact=${contact}`)
    t.same([r.status, r.code], [400, 'BAD_PARAMETER'], `contact=${contact}`)
    t.match(r.message, /Parameter "contact" is ill-formed.*not \. or \.\./)
  }
  const paths = gw.sim.ctx.requestLog.map((e) => e.url).filter((u) => u.includes('makecall'))
  t.same(paths, [], 'no makecall sent')
})

t.test('makecall: an unencoded + is kept in front, refused inside a contact; an unknown device is 404 DEVICE_NOT_FOUND', async (t) => {
  const gw = await startAppOnSimulator(t, { auth: { perKeyMax: 10_000 } })
  const placed = await gw.app.inject({ url: `/makecall?first=${A}&second=+15559870000`, headers: { 'x-api-key': CONTROL_KEY } })
  t.equal(placed.statusCode, 200, placed.body)

  const inside = await ask(gw, `/makecall?first=${A}&second=${B}&contact=sip:+4930@pbx`)
  t.same([inside.status, inside.code], [400, 'BAD_PARAMETER'])
  t.match(inside.message, /^Parameter "contact" contains a space: an unencoded "\+" .* as %2B/)

  const before = gw.sim.ctx.requestLog.length
  const unknown = await ask(gw, `/makecall?first=${A}&second=${B}&contact=+nosuchphone`)
  t.same([unknown.status, unknown.code], [404, 'DEVICE_NOT_FOUND'])
  t.match(unknown.message, new RegExp(`^Extension ${A} has no registered device "\\+nosuchphone"; (use one of \\S+|it has no registered device now)`), 'names the device, leading + kept')
  const posts = gw.sim.ctx.requestLog.slice(before).filter((e) => e.method === 'POST').map((e) => e.url)
  t.equal(posts.length, 1, 'no fallback to another path')
  t.match(posts[0], `/callcontrol/${A}/devices/%2Bnosuchphone/makecall`)
})

t.test('makecall from an extension without a registered phone: the PBX refuses, 422 PBX_REJECTED naming it', async (t) => {
  const gw = await startAppOnSimulator(t)
  t.equal(gw.sim.ctx.directory.users.find((u) => u.Number === OFF)?.IsRegistered, false, 'OFF (115 on the default PBX) has no phone')
  const before = gw.sim.ctx.requestLog.length
  const r = await ask(gw, `/makecall?first=${OFF}&second=${A}`)
  t.same([r.status, r.code], [422, 'PBX_REJECTED'])
  t.match(r.message, new RegExp(`^The PBX refused to place the call from ${OFF} to ${A}: .*extension ${OFF} is not registered: it has no phone to ring first`))
  const posts = gw.sim.ctx.requestLog.slice(before).filter((e) => e.method === 'POST').map((e) => e.url)
  t.same(posts, [`/callcontrol/${OFF}/makecall`], 'refused once, no other path tried')
})

t.test('50 identical concurrent makecalls dial once and all get the first answer; after the window it dials again', async (t) => {
  const gw = await startAppOnSimulator(t, { auth: { perKeyMax: 10_000 }, env: { MAKECALL_DEDUP_MS: '300' } })
  const posts = (): number => gw.sim.ctx.requestLog.filter((e) => e.method === 'POST' && e.url.includes('makecall')).length
  const url = `/makecall?first=${A}&second=%2B15559870000`
  // Among them the same call written otherwise (sent while the first is in flight, so within the window
  // however slow the machine): the number with separators, the key in the path.
  const formatted = `/webapi/${CONTROL_KEY}/makecall?second=%2B1%20(555)%20987-0000&first=${A}`
  const answers = await Promise.all(Array.from({ length: 50 }, async (_, i) => await gw.app.inject(i === 25 ? { url: formatted } : { url, headers: { 'x-api-key': CONTROL_KEY } })))
  t.equal(answers.length, 50)
  t.same(new Set(answers.map((a) => a.statusCode)), new Set([200]), 'all 200')
  t.equal(new Set(answers.map((a) => a.json().chid)).size, 1, 'one call chain for all, the formatted number too')
  t.equal(posts(), 1, 'the PBX was asked to dial once')
  const other = await gw.app.inject({ url: `/makecall?first=${A}&second=%2B15559870001`, headers: { 'x-api-key': CONTROL_KEY } })
  t.equal(other.statusCode, 200)
  t.equal(posts(), 2, 'other parameters: a call of its own')
  await new Promise((resolve) => setTimeout(resolve, 400))
  t.equal((await gw.app.inject({ url, headers: { 'x-api-key': CONTROL_KEY } })).statusCode, 200)
  t.equal(posts(), 3, 'after the window the same request dials again')
})
