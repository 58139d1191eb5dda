// The PBX the suite's simulator fixtures run (SIM_PBX, a PBX definition file; default pbx/default.yaml)
// and the number map tests use instead of literal numbers where they talk to the PBX: written against
// the default PBX (`pbx.n('101')`, `pbx.n('800')`, `pbx.n('+15550101')`), a test then runs on another
// definition with that PBX's DN in the same role. docs/simulator.md "The suite on another PBX" lists
// which files run on both shipped PBXs.
import { fileURLToPath } from 'node:url'
import { loadPbxDefinition, type PbxDefinition } from '../../src/sim/pbx-definition.js'

export const DEFAULT_PBX_FILE = fileURLToPath(new URL('../../pbx/default.yaml', import.meta.url))
export const BRANCH_PBX_FILE = fileURLToPath(new URL('../../pbx/branch-office.yaml', import.meta.url))

export interface PbxUnderTest {
  /** The definition file's name (`default.yaml`), for test names. */
  name: string
  definition: PbxDefinition
  /** The first API client: what the gateway's PBX_CLIENT_ID and PBX_CLIENT_SECRET are. */
  clientId: string
  secret: string
  /** This PBX's number for a default-PBX number (identity on the default PBX); throws when it has none. */
  n: (defaultNumber: string) => string
  /** createSimulator() options for this PBX (none for the default PBX: the built-in one is the same). */
  simOptions: { pbx?: PbxDefinition }
  /** The DID (number and rule name) whose inbound rule goes to `to`; throws when there is none. */
  didTo: (to: string) => { number: string, name: string }
  /** The agents of this PBX's queue `queue` (none when it has no such queue). */
  agentsOf: (queue: string) => string[]
  /** The members of this PBX's ring group `group` (none when it has no such group). */
  membersOf: (group: string) => string[]
  /** Who rings first when a call reaches `queue`: its first agent on a hunt queue, every agent on a ring-all one. */
  firstRung: (queue: string) => string[]
}

const pairs = <T> (from: readonly T[] = [], to: readonly T[] = []): Array<[T, T]> =>
  from.slice(0, to.length).map((x, i) => [x, to[i]])

/**
 * Default-PBX numbers → `to`'s numbers, by role, in definition order: the k-th queue, ring group, IVR,
 * trunk and API client; the agents of paired queues and the members of paired ring groups (a user
 * keeps its first role); then the remaining registered users, then the unregistered ones; a DID goes
 * to the DID whose rule reaches the mapped destination. Pure, so the map itself is unit-tested.
 */
export function numberMap (from: PbxDefinition, to: PbxDefinition): Map<string, string> {
  const map = new Map<string, string>()
  const taken = new Set<string>()
  const put = (a: string, b: string): void => {
    if (map.has(a) || taken.has(b)) return
    map.set(a, b)
    taken.add(b)
  }
  for (const [a, b] of pairs(from.queues, to.queues)) put(a.number, b.number)
  for (const [a, b] of pairs(from.ringGroups, to.ringGroups)) put(a.number, b.number)
  for (const [a, b] of pairs(from.ivrs, to.ivrs)) put(a.number, b.number)
  for (const [a, b] of pairs(from.trunks, to.trunks)) put(a.number, b.number)
  for (const [a, b] of pairs(from.apiClients, to.apiClients)) put(a.clientId, b.clientId)
  for (const [a, b] of pairs(from.queues, to.queues)) for (const [x, y] of pairs(a.agents, b.agents)) put(x, y)
  for (const [a, b] of pairs(from.ringGroups, to.ringGroups)) for (const [x, y] of pairs(a.members, b.members)) put(x, y)
  for (const registered of [true, false]) {
    const free = (d: PbxDefinition, used: (n: string) => boolean): string[] =>
      d.users.filter((u) => (u.registered ?? true) === registered && !used(u.number)).map((u) => u.number)
    for (const [a, b] of pairs(free(from, (n) => map.has(n)), free(to, (n) => taken.has(n)))) put(a, b)
  }
  for (const did of from.dids ?? []) {
    const target = map.get(did.to)
    const same = (to.dids ?? []).find((d) => d.to === target)
    if (same !== undefined) put(did.number, same.number)
  }
  return map
}

/** The PBX definition in `file` (default: SIM_PBX, else pbx/default.yaml) with its number map. */
export function pbxUnderTest (file = process.env.SIM_PBX ?? DEFAULT_PBX_FILE): PbxUnderTest {
  const definition = loadPbxDefinition(file)
  const map = numberMap(loadPbxDefinition(DEFAULT_PBX_FILE), definition)
  const name = file.split(/[\\/]/).pop() ?? file
  const agentsOf = (queue: string): string[] => definition.queues?.find((q) => q.number === queue)?.agents ?? []
  return {
    name,
    definition,
    clientId: definition.apiClients[0].clientId,
    secret: definition.apiClients[0].secret,
    simOptions: file === DEFAULT_PBX_FILE ? {} : { pbx: definition },
    n (defaultNumber) {
      const mapped = map.get(defaultNumber)
      if (mapped === undefined) throw new Error(`${name} has no counterpart of the default PBX's ${defaultNumber}: the test cannot run on it`)
      return mapped
    },
    didTo (to) {
      const did = definition.dids?.find((d) => d.to === to)
      if (did === undefined) throw new Error(`${name} has no DID to ${to}`)
      return { number: did.number, name: did.name }
    },
    agentsOf,
    membersOf: (group) => definition.ringGroups?.find((g) => g.number === group)?.members ?? [],
    firstRung (queue) {
      const q = definition.queues?.find((x) => x.number === queue)
      return q?.strategy === 'Hunt' ? agentsOf(queue).slice(0, 1) : agentsOf(queue)
    }
  }
}

/** The PBX of this run (SIM_PBX), loaded once. */
export const PBX = pbxUnderTest()
