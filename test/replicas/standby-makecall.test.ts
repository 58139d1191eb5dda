// makecall answered by a standby: the ids must be the ones the call's webhooks carry, which the
// holder's call model announces. The holder's clock runs 2 minutes ahead (replicas' clocks differ in
// production too), so a standby that named the call from its own model and clock answered another
// chid than the webhooks (the old behaviour). Then: a double click on the standby answers as on the
// holder, and a holder that does not answer gives a 503 with a stable code.
import t from 'tap'
import { Writable } from 'node:stream'
import { loadConfig } from '../../src/config.js'
import { startGateway } from '../../src/server.js'
import { systemClock } from '../../src/clock.js'
import { until } from '../webhooks/helpers.js'
import { pgGatewayFixture } from '../store/pg/pg-gateway-fixture.js'
import { PBX } from '../sim/pbx-under-test.js'

const quiet = (): Writable => new Writable({ write (_c, _e, cb) { cb() } })
const KEY = 'standby-makecall-test-key-0123456789'
// The PBX's extensions (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
const [E100, E101, E102, E103, E104, E105] = ['100', '101', '102', '103', '104', '105'].map((n) => PBX.n(n))
const AHEAD = { ...systemClock, now: () => Date.now() + 120_000 }

interface Answer { status: number, body: { result: boolean, chid?: string, id?: string, error?: { code: string, message: string } } }

async function makecall (base: string, first: string, second: string): Promise<Answer> {
  const r = await fetch(`${base}/makecall?first=${first}&second=${second}`, { headers: { 'x-api-key': KEY } })
  return { status: r.status, body: await r.json() as Answer['body'] }
}

t.test('makecall on a standby answers the ids of the call\'s webhooks; without a holder\'s answer, 503', async (t) => {
  const { db, sim, receiver, env } = await pgGatewayFixture(t, KEY)
  const dirs = t.testdir({ a: {}, b: {} })
  const lease = { leaseMs: 1000, renewMs: 200, callIdWaitMs: 1500 }
  const a = await startGateway(loadConfig({ ...env, DATA_DIR: dirs + '/a' }), { logStream: quiet(), pbx: { clock: AHEAD }, lease: { ...lease, replica: 'replica-a' } })
  t.teardown(() => a.close())
  await a.services.pbx.callControl.ready()
  const b = await startGateway(loadConfig({ ...env, DATA_DIR: dirs + '/b' }), { logStream: quiet(), lease: { ...lease, replica: 'replica-b' } })
  t.teardown(() => b.close())
  t.equal(b.services.stream().role, 'standby')

  // The chid of the first webhook of PBX call `callid`.
  const hooked = async (callid: number): Promise<string> => {
    const chid = (): string | undefined => receiver.received.map((r) => JSON.parse(r.body) as { chid?: string })
      .find((p) => p.chid?.endsWith(`_${callid}`) === true)?.chid
    await until(() => chid() !== undefined, 8000)
    return chid() ?? ''
  }
  const callidOf = (id: string | undefined): number => Number(/_(\d+)-/.exec(id ?? '')?.[1])

  const one = await makecall(b.url, E101, E102)
  t.equal(one.status, 200, JSON.stringify(one.body))
  t.match(one.body.id, /^\d{12}_\d+-0$/)
  t.equal(await hooked(callidOf(one.body.id)), one.body.chid, 'the standby\'s makecall answers the chid its webhooks carry')
  t.equal(one.body.id, `${one.body.chid ?? ''}-0`)
  // The hand-off's own cost (docs/operating.md): the standby asking the holder again for that call.
  const times: number[] = []
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now()
    t.same(await b.services.deps.calls.reserve(callidOf(one.body.id), Date.now()), { chid: one.body.chid, legacyId: one.body.id })
    times.push(Math.round(performance.now() - t0))
  }
  t.comment(`standby -> holder -> standby ids: ${times.join(', ')} ms`)

  // A double click: two identical makecalls at once, on the holder and then on the standby.
  // (The simulator, like the PBX, answers the second with the call the first placed.)
  const clicks = async (base: string, first: string, second: string): Promise<Answer[]> => await Promise.all([makecall(base, first, second), makecall(base, first, second)])
  const onHolder = await clicks(a.url, E103, E104)
  const onStandby = await clicks(b.url, E100, E105)
  const shape = (as: Answer[]): string => `${as.map((x) => `${x.status} ${x.body.error?.code ?? 'ok'}`).sort().join(', ')}; ${as[0].body.id === as[1].body.id ? 'one id' : 'two ids'}`
  t.same(shape(onStandby), shape(onHolder), `a double click answers on the standby as on the holder (${shape(onHolder)})`)
  for (const x of onStandby.filter((x) => x.status === 200)) t.equal(await hooked(callidOf(x.body.id)), x.body.chid, `double click: ${x.body.chid ?? ''} is its webhooks' chid`)

  // The holder stops answering: its lease passes to a replica that is gone (it loses its stream).
  await db.query("UPDATE stream_leases SET holder = 'replica-gone', expires_at = clock_timestamp() + interval '1 hour'")
  await until(() => !a.services.pbx.callControl.connected && b.services.stream().holder === 'replica-gone', 5000)
  const placedBefore = sim.ctx.requestLog.filter((x) => x.method === 'POST' && /makecall/i.test(x.url)).length
  const started = Date.now()
  const lost = await makecall(b.url, E102, '%2B15559870000')
  t.equal(lost.status, 503)
  t.equal(lost.body.error?.code, 'STREAM_HOLDER_UNAVAILABLE')
  t.match(lost.body.error?.message, new RegExp(`^The call from ${E102} to \\+15559870000 was placed \\(3CX call id \\d+\\), but the replica holding the PBX's event stream did not confirm its call id in time; do not place it again`))
  t.ok(Date.now() - started >= 1500, `answered after the 1.5 s wait (${Date.now() - started} ms)`)
  t.equal(sim.ctx.requestLog.filter((x) => x.method === 'POST' && /makecall/i.test(x.url)).length, placedBefore + 1, 'the PBX got the call once')
})
