// Hostile input: every method with missing, empty, overlong, non-ASCII and injected values gets a
// JSON 4xx naming the parameter (never a 5xx), and nothing a caller sent reaches an XAPI URL
// unescaped.
import t from 'tap'
import { CONTROL_KEY, startAppOnSimulator } from '../legacy/legacy-harness.js'
import { PBX } from '../sim/pbx-under-test.js'

// The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
const [AGENT, QUEUE, GROUP] = ['101', '800', '700'].map((n) => PBX.n(n))

/** Valid parameters per method; `?` marks an optional one. */
const METHODS: Record<string, Record<string, string>> = {
  'ext.info.get': { num: AGENT },
  'ext.state.get': { num: AGENT },
  'queue.members.get': { num: QUEUE },
  'queue.free.get': { num: QUEUE },
  'queue.talk.get': { num: QUEUE },
  'queue.isfree.get': { num: QUEUE },
  'group.members.get': { num: GROUP },
  'group.free.get': { num: GROUP },
  makecall: { first: AGENT, second: '+15559870000', 'contact?': 'dev1', 'timeout?': '1000' },
  'ext.fwd.set': { num: AGENT, status: 'Away' },
  'ext.queueglobal.set': { num: AGENT, log: 'on' },
  'ext.queue.set': { num: AGENT, queue: QUEUE, log: 'on' },
  'ext.options.set': { num: AGENT, 'enabled?': 'on', 'external?': 'on', 'recording?': 'all' }
}

/** Raw (already URL-encoded) hostile values. */
const BAD_VALUES = [
  '', 'x'.repeat(201), '9'.repeat(5000), encodeURIComponent('１０１'), encodeURIComponent('Zoë'), encodeURIComponent('📞'),
  "'", '%27', '%00', '101%00', '../', '..%2F..%2Fetc', encodeURIComponent("' or 1 eq 1"), encodeURIComponent("101' or Number ne '"),
  encodeURIComponent('$filter=Id gt 0'), '101%0Aevil', encodeURIComponent('a&b=c'), encodeURIComponent('<script>')
]

function query (params: Record<string, string>, replace?: string, value?: string | null): string {
  const parts: string[] = []
  for (const [rawName, v] of Object.entries(params)) {
    const name = rawName.replace('?', '')
    if (name === replace) {
      if (value !== null && value !== undefined) parts.push(`${name}=${value}`)
    } else parts.push(`${name}=${encodeURIComponent(v)}`)
  }
  return parts.join('&')
}

t.test('every method rejects every hostile value with a JSON 4xx', async (t) => {
  const gw = await startAppOnSimulator(t, { auth: { perKeyMax: 100_000 } })
  let checked = 0
  for (const [method, params] of Object.entries(METHODS)) {
    for (const rawName of Object.keys(params)) {
      const name = rawName.replace('?', '')
      const cases: Array<string | null> = [...BAD_VALUES, ...(name === 'timeout' ? ['700000', '99', '1.5', '-1', '1e5'] : []), ...(rawName.endsWith('?') ? [] : [null])]
      cases.push(`${encodeURIComponent(params[rawName])}&${name}=${encodeURIComponent(params[rawName])}`) // duplicated
      cases.push(`${encodeURIComponent(params[rawName])}&${encodeURIComponent(name).replace(/^./, (c) => `%${c.charCodeAt(0).toString(16)}`)}=x`) // duplicated, name encoded
      for (const value of cases) {
        const url = `/${method}?${query(params, name, value)}`
        const r = await gw.app.inject({ url, headers: { 'x-api-key': CONTROL_KEY } })
        const what = `${method} ${name}=${value === null ? '(missing)' : value.slice(0, 30)}`
        if (r.statusCode < 400 || r.statusCode >= 500) {
          t.fail(`${what}: ${r.statusCode} ${r.body.slice(0, 200)}`)
          continue
        }
        const body = r.json()
        t.equal(body.result, false, what)
        t.type(body.error?.code, 'string')
        if (r.statusCode === 400) t.match(body.error.message, new RegExp(`"${name}"|Parameter "`), `${what} names a parameter`)
        checked++
      }
    }
  }
  t.ok(checked > 300, `${checked} hostile requests answered 4xx`)
  // The hostile requests were all refused before the PBX; valid ones of the same methods give the
  // check below URLs to look at.
  for (const [method, params] of Object.entries(METHODS)) {
    if (method.endsWith('.get')) await gw.app.inject({ url: `/${method}?${query(params)}`, headers: { 'x-api-key': CONTROL_KEY } })
  }
  t.ok(gw.sim.ctx.requestLog.length > 0, `${gw.sim.ctx.requestLog.length} PBX requests to check`)
  for (const entry of gw.sim.ctx.requestLog) {
    const decoded = decodeURIComponent(entry.url)
    t.notMatch(decoded, /or 1 eq 1|Number ne|\.\.\/|\x00|<script>|\$filter=Id gt/, `no caller text in ${entry.url}`)
  }
})

t.test('odd but valid DNs reach XAPI quoted and encoded', async (t) => {
  const gw = await startAppOnSimulator(t)
  for (const num of ['#1', '+1', '*55', 'HOL']) {
    const r = await gw.app.inject({ url: `/ext.info.get?num=${encodeURIComponent(num)}`, headers: { 'x-api-key': CONTROL_KEY } })
    t.equal(r.statusCode, 404, `${num}: unknown extension`)
    t.equal(r.json().error.code, 'EXT_NOT_FOUND')
    t.match(r.json().error.message, `Extension ${num} does not exist`)
  }
  const urls = gw.sim.ctx.requestLog.map((e) => e.url)
  t.ok(urls.some((u) => u.includes("Number%20eq%20'%231'")), '# encoded inside the quoted literal')
  t.ok(urls.some((u) => u.includes("Number%20eq%20'%2B1'")), '+ encoded (a bare + would read as a space)')
  t.ok(urls.some((u) => u.includes("Number%20eq%20'*55'") || u.includes("Number%20eq%20'%2A55'")))
})

t.test('URLs the router cannot parse', async (t) => {
  const gw = await startAppOnSimulator(t)
  for (const url of ['/webapi/%zz/pbx.calls.get', `/webapi/${'k'.repeat(600)}/pbx.calls.get`, '/ext.info.get?num=%zz']) {
    const r = await gw.app.inject({ url, headers: { 'x-api-key': CONTROL_KEY } })
    t.ok(r.statusCode >= 400 && r.statusCode < 500, `${url.slice(0, 40)} → ${r.statusCode}`)
    t.equal(r.json().result, false)
  }
})
