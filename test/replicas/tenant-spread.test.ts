// The spread of tenants over replicas (pure): every case of 1–7 replicas and 0–40 tenants, checked
// for completeness, evenness, order independence and few moves on a join or a leave; and the plan a
// replica acts on (what it gives back, when nothing moves).
import t from 'tap'
import { planSpread, spreadTenants } from '../../src/replicas/tenant-spread.js'

const replicaIds = (n: number, tag = ''): string[] => Array.from({ length: n }, (_, i) => `gw-${String.fromCharCode(97 + i)}${tag}:${4100 + i * 37}`)
const tenantIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `t${i}`)
const ownerOf = (spread: Map<string, string[]>): Map<string, string> => new Map([...spread].flatMap(([r, ts]) => ts.map((x) => [x, r] as const)))
const shuffled = <T>(xs: readonly T[], seed: number): T[] => {
  const out = [...xs]
  let s = seed
  for (let i = out.length - 1; i > 0; i--) { s = (s * 1103515245 + 12345) % 2 ** 31; const j = s % (i + 1); [out[i], out[j]] = [out[j], out[i]] }
  return out
}

t.test('every tenant exactly once, each replica floor(T/R) or ceil(T/R), the same answer in any order', async (t) => {
  let cases = 0
  const problems: string[] = []
  for (let r = 1; r <= 7; r++) {
    for (let n = 0; n <= 40; n++) {
      const rs = replicaIds(r)
      const ts = tenantIds(n)
      const spread = spreadTenants(rs, ts)
      const all = [...spread.values()].flat().sort()
      if (all.join() !== [...ts].sort().join()) problems.push(`${r}/${n}: not every tenant exactly once`)
      const sizes = [...spread.values()].map((l) => l.length)
      if (sizes.some((k) => k < Math.floor(n / r) || k > Math.ceil(n / r))) problems.push(`${r}/${n}: uneven ${sizes.join(',')}`)
      if (spread.size !== r) problems.push(`${r}/${n}: a replica missing from the answer`)
      const again = spreadTenants(shuffled(rs, n + 1), shuffled([...ts, ...ts.slice(0, 2)], r))
      if (JSON.stringify([...again].sort()) !== JSON.stringify([...spread].sort())) problems.push(`${r}/${n}: depends on the order or on repeated ids`)
      cases++
    }
  }
  t.same(problems, [], `${cases} cases`)
  t.same(spreadTenants([], ['a', 'b']), new Map(), 'no replica: nobody to hold anything')
})

t.test('a replica joining or leaving moves few tenants: at most twice the joiner\'s (or leaver\'s) share, plus one', async (t) => {
  const problems: string[] = []
  let moved = 0
  let ideal = 0
  for (let r = 1; r <= 6; r++) {
    for (let n = 1; n <= 40; n++) {
      const rs = replicaIds(r)
      const ts = tenantIds(n)
      const before = ownerOf(spreadTenants(rs, ts))
      const joined = spreadTenants([...rs, 'gw-new:77'], ts)
      const join = ts.filter((x) => before.get(x) !== ownerOf(joined).get(x)).length
      const share = joined.get('gw-new:77')?.length ?? 0
      if (join > 2 * share + 1) problems.push(`${r}+1/${n}: ${join} moved for a share of ${share}`)
      moved += join
      ideal += share
      if (r === 1) continue
      const leaver = rs[n % r]
      const left = ownerOf(spreadTenants(rs.filter((x) => x !== leaver), ts))
      const leave = ts.filter((x) => before.get(x) !== left.get(x)).length
      const had = ts.filter((x) => before.get(x) === leaver).length
      if (leave > 2 * had + 1) problems.push(`${r}-1/${n}: ${leave} moved for ${had} of the leaver's`)
    }
  }
  t.same(problems, [])
  t.ok(moved <= ideal * 1.2, `joins moved ${moved} tenants where ${ideal} had to move`)
})

t.test('the plan: hysteresis, releases towards the designated replica, nothing before registration', async (t) => {
  const [a, b, c] = replicaIds(3)
  const tenants = tenantIds(20)
  const holders = (of: Record<string, string[]>): Map<string, string> => new Map(Object.entries(of).flatMap(([r, ts]) => ts.map((x) => [x, r] as const)))
  const spread = spreadTenants([a, b, c], tenants)

  // a grabbed everything before b and c started: it gives back exactly what is not its own.
  const grabbed = planSpread({ self: a, replicas: [a, b, c], tenants, holders: holders({ [a]: tenants }) })
  t.equal(grabbed.quota, spread.get(a)?.length)
  t.same(grabbed.designated, new Set(spread.get(a)))
  t.same(grabbed.release.sort(), tenants.filter((x) => !grabbed.designated.has(x)).sort(), 'gives back every tenant designated elsewhere')
  t.same(planSpread({ self: b, replicas: [a, b, c], tenants, holders: holders({ [a]: tenants }) }).release, [], 'b holds nothing, gives nothing')

  // Even enough (7/7/6 in any arrangement): nothing moves, even tenants held by a non-designated replica.
  const swapped = holders({ [a]: tenants.slice(0, 7), [b]: tenants.slice(7, 14), [c]: tenants.slice(14) })
  for (const self of [a, b, c]) t.same(planSpread({ self, replicas: [a, b, c], tenants, holders: swapped }).release, [], `${self}: 7/7/6 stays`)
  const oneTenant = planSpread({ self: a, replicas: [a, b], tenants: ['solo'], holders: holders({ [a]: ['solo'] }) })
  t.same(oneTenant.release, [], 'one tenant on two replicas stays where it is (1 ≤ ceil)')

  // c joined, a and b hold 10 each: they give back down to their quota, c's designated ones first.
  const joined = holders({ [a]: tenants.slice(0, 10), [b]: tenants.slice(10) })
  const planA = planSpread({ self: a, replicas: [a, b, c], tenants, holders: joined })
  t.equal(planA.release.length, 10 - planA.quota, 'a gives back down to its quota')
  const toC = planA.release.filter((x) => spread.get(c)?.includes(x))
  t.same(planA.release.slice(0, toC.length), toC, 'the ones designated to the short replica first')
  t.ok(planA.release.every((x) => !planA.designated.has(x)), 'never one of its own')
  t.equal(planA.holding.get(c), 0)

  // 8/6/6 with T=20, R=3 (ceil 7): the replica over ceil gives one back.
  const over = holders({ [a]: tenants.slice(0, 8), [b]: tenants.slice(8, 14), [c]: tenants.slice(14) })
  const planOver = planSpread({ self: a, replicas: [a, b, c], tenants, holders: over })
  t.ok(planOver.release.length >= 1 && planOver.release.length === 8 - planOver.quota, `8 > ceil 7: gives back ${planOver.release.length}`)

  // Holdings of a dead replica (not in the list) do not count; a replica not registered does nothing.
  const dead = planSpread({ self: a, replicas: [a, b], tenants, holders: holders({ [a]: tenants.slice(0, 7), [b]: tenants.slice(7, 14), [c]: tenants.slice(14) }) })
  t.same(dead.release, [], 'a and b under their new quota of 10: they take, not give')
  t.equal(dead.holding.has(c), false)
  t.same(planSpread({ self: 'gw-unregistered:1', replicas: [a, b], tenants, holders: holders({ 'gw-unregistered:1': tenants }) }), { designated: new Set(), quota: 0, release: [], holding: new Map([[a, 0], [b, 0]]) })
})
