// The hot cached path (issue 16): a method whose answer is in memory (ext.state.get, pbx.ac.get,
// pbx.callsinfo.get) is answered from its onRequest hook, right after authentication and the
// per-key limit. These check that the shortcut answers exactly as the full lifecycle does, and that
// it keeps every safeguard: the key, the scope, the per-key limit (counted once), the duplicate
// rule, the querystring schema, the security headers and the request counters.
import t from 'tap'
import { GatewayMetrics } from '../../src/metrics.js'
import { CONTROL_KEY, READ_KEY, keyForms, startAppOnSimulator, staticCalls } from '../legacy/legacy-harness.js'
import { talkingCall } from '../legacy/call-fixtures.js'
import { legacyMethods } from '../../routes/legacy/index.js'

interface Answer { status: number, headers: Record<string, string>, body: string }

async function get (base: string, url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(base + url, { headers })
  const out: Record<string, string> = {}
  res.headers.forEach((v, k) => { if (k !== 'date') out[k] = v })
  return { status: res.status, headers: out, body: await res.text() }
}

type HarnessOptions = NonNullable<Parameters<typeof startAppOnSimulator>[1]>

/** The app on a real socket, with 101 in a call: its base URL. */
async function listening (t: Parameters<typeof startAppOnSimulator>[0], opts: HarnessOptions = {}): Promise<string> {
  const gw = await startAppOnSimulator(t, { calls: staticCalls([talkingCall]), listen: true, ...opts })
  return `http://127.0.0.1:${(gw.app.server.address() as { port: number }).port}`
}

t.test('answered from memory exactly as through the handler: same status, headers and body, in every key form', async (t) => {
  const base = await listening(t)
  for (const [method, query] of [['ext.state.get', 'num=101'], ['pbx.ac.get', ''], ['pbx.callsinfo.get', '']]) {
    for (const f of keyForms(method, query, READ_KEY)) {
      const cold = await get(base, f.url, f.headers) // the first request fills the directory cache through the handler
      const hot = await get(base, f.url, f.headers)
      t.equal(hot.status, 200, `${method} ${f.form}`)
      t.same(hot, cold, `${method} ${f.form}: the shortcut's answer equals the handler's`)
      t.equal(hot.headers['content-type'], 'application/json; charset=utf-8')
      t.equal(hot.headers['x-content-type-options'], 'nosniff', 'security headers kept')
      t.equal(hot.headers['cache-control'], 'no-store')
      t.equal(Number(hot.headers['content-length']), Buffer.byteLength(hot.body))
    }
  }
  t.same(JSON.parse((await get(base, '/ext.state.get?num=101', { 'x-api-key': READ_KEY })).body).status, 'Busy', 'the live busy flag')
})

/** An app on the same PBX whose routes have no shortcut: every request runs the handler. */
async function withoutShortcut (t: Parameters<typeof startAppOnSimulator>[0]): Promise<string> {
  const methods = legacyMethods as unknown as Array<{ peek?: unknown }>
  const saved = methods.map((m) => m.peek)
  for (const m of methods) delete m.peek
  try {
    return await listening(t)
  } finally {
    methods.forEach((m, i) => { if (saved[i] !== undefined) m.peek = saved[i] })
  }
}

t.test('the shortcut answers what an app without it answers (in the same app the first answer may already come from the shortcut)', async (t) => {
  const hotBase = await listening(t)
  const coldBase = await withoutShortcut(t)
  for (const [method, query] of [['ext.state.get', 'num=101'], ['pbx.ac.get', ''], ['pbx.callsinfo.get', ''], ['pbx.ac.get', 'x=1']]) {
    for (const f of keyForms(method, query, READ_KEY)) {
      await get(hotBase, f.url, f.headers) // fills the directory cache
      const hot = await get(hotBase, f.url, f.headers)
      const cold = await get(coldBase, f.url, f.headers)
      t.same(hot, cold, `${method}?${query} ${f.form}`)
    }
  }
})

t.test('the shortcut keeps the key, the duplicate rule and the schema', async (t) => {
  const base = await listening(t)
  await get(base, '/ext.state.get?num=101', { 'x-api-key': READ_KEY }) // cached from here on
  const code = async (url: string, headers: Record<string, string> = {}): Promise<[number, string]> => {
    const r = await get(base, url, headers)
    return [r.status, (JSON.parse(r.body) as { error?: { code: string } }).error?.code ?? 'OK']
  }
  t.same(await code('/ext.state.get?num=101'), [401, 'UNAUTHORIZED'], 'no key')
  t.same(await code('/ext.state.get?num=101', { 'x-api-key': READ_KEY + 'x' }), [401, 'UNAUTHORIZED'], 'a wrong key')
  t.same(await code(`/ext.state.get?num=101&num=101&key=${READ_KEY}`), [400, 'DUPLICATE_PARAMETER'], 'a repeated parameter')
  t.same(await code(`/ext.state.get?num=101&key=${READ_KEY}&key=${READ_KEY}`), [400, 'DUPLICATE_PARAMETER'], 'a repeated key')
  t.same(await code("/ext.state.get?num=1'01", { 'x-api-key': READ_KEY }), [400, 'BAD_PARAMETER'], 'a number the schema refuses')
  t.same(await code('/ext.state.get', { 'x-api-key': READ_KEY }), [400, 'BAD_PARAMETER'], 'no number')
  t.same(await code('/ext.state.get?num=999', { 'x-api-key': READ_KEY }), [404, 'EXT_NOT_FOUND'], 'an unknown extension: the handler answers')
  t.same(await code(`/webapi/${READ_KEY}x/ext.state.get?num=101`), [401, 'UNAUTHORIZED'], 'a wrong key in the path')
})

t.test('each answer from memory counts once against the per-key limit and once in the request counters', async (t) => {
  const metrics = new GatewayMetrics({ defaultMetrics: false })
  const base = await listening(t, { auth: { perKeyMax: 3 }, metrics })
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) statuses.push((await get(base, '/ext.state.get?num=101', { 'x-api-key': READ_KEY })).status)
  t.same(statuses, [200, 200, 200, 429], 'the fourth request is over the limit of 3, not the second')
  t.equal((await get(base, '/pbx.ac.get', { 'x-api-key': CONTROL_KEY })).status, 200, 'another key is not affected')
  const counted = Object.fromEntries(metrics.requests.entries().map(([l, n]) => [`${l.method} ${l.status}`, n]))
  t.same(counted, { 'ext.state.get 200': 3, 'ext.state.get 429': 1, 'pbx.ac.get 200': 1 })
})
