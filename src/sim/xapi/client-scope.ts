// What an API client's department lets it reach through XAPI. On a real PBX a client is created with
// a department (group) and a role, and XAPI answers are scoped to that department (3cx-v20.md §1, §4.7):
// a department-scoped client reads only its department's users, queues and ring groups, only its own
// department among Groups, and places calls only from its users; anything else by key is 403.
// A client without a department (the simulator's default) sees the whole PBX.
//
// The simulator's reading where 3CX's is not documented (docs/simulator.md, "Access like a real API
// client"), always the conservative side, so nothing of another department leaks:
// - a queue or ring group belongs to a department when every agent or member (at least one) does;
// - call history, recordings, reports and active calls show only calls in which one of the client's
//   DNs (its users, queues, ring groups) took part.
import type { SimApiClient, SimCallRecord, SimDirectory } from '../sim-types.js'
import { ODataError } from './odata-error.js'
import type { Row } from './odata-filter.js'

type Client = SimApiClient | undefined

function department (d: SimDirectory, client: SimApiClient): string[] {
  return d.groups.find((g) => g.Name === client.department)?.MemberNumbers ?? []
}

/** Whether the client's department holds the extension (always, for a PBX-wide client). */
export function inClientScope (d: SimDirectory, client: Client, number: string): boolean {
  if (client?.department === undefined) return true
  return department(d, client).includes(number)
}

const allIn = (d: SimDirectory, client: Client, numbers: readonly string[]): boolean =>
  numbers.length > 0 && numbers.every((n) => inClientScope(d, client, n))

/** The directory sets a department limits, and whether a row of each is the client's. */
const SCOPED: Readonly<Record<string, { noun: string, owns: (d: SimDirectory, client: SimApiClient, row: Row) => boolean }>> = {
  Users: { noun: 'extension', owns: (d, c, row) => inClientScope(d, c, String(row.Number)) },
  Queues: { noun: 'queue', owns: (d, c, row) => allIn(d, c, (row.Agents as Row[]).map((a) => String(a.Number))) },
  RingGroups: { noun: 'ring group', owns: (d, c, row) => allIn(d, c, (row.Members as Row[]).map((m) => String(m.Number))) },
  Groups: { noun: 'department', owns: (_d, c, row) => row.Name === c.department }
}

/** The rows of a directory set the client may read (all of them for an unscoped set or client). */
export function rowsInScope (d: SimDirectory, client: Client, setName: string, rows: Row[]): Row[] {
  const scoped = SCOPED[setName]
  if (client?.department === undefined || scoped === undefined) return rows
  return rows.filter((row) => scoped.owns(d, client, row))
}

/** 403 when the extension is outside the client's department. */
export function requireInScope (d: SimDirectory, client: Client, number: string, what: string): void {
  if (!inClientScope(d, client, number)) throw outside(client, 'extension', number, what)
}

/** 403 when a directory entity (by key: read, navigation, function, change) is outside the department. */
export function requireRowInScope (d: SimDirectory, client: Client, setName: string, row: Row, what: string): void {
  const scoped = SCOPED[setName]
  if (client?.department === undefined || scoped === undefined || scoped.owns(d, client, row)) return
  throw outside(client, scoped.noun, String(setName === 'Groups' ? row.Name : row.Number), what)
}

function outside (client: Client, noun: string, name: string, what: string): ODataError {
  return new ODataError(403, 'Forbidden', `${what}: ${noun} ${name} is not in the API client's department (${client?.department ?? ''}).`)
}

/** The calls the client may see in history, recordings, reports and active calls. */
export function recordsInScope (d: SimDirectory, client: Client, records: readonly SimCallRecord[]): readonly SimCallRecord[] {
  if (client?.department === undefined) return records
  const own = new Set([
    ...department(d, client),
    ...rowsInScope(d, client, 'Queues', d.queues as unknown as Row[]).map((q) => String(q.Number)),
    ...rowsInScope(d, client, 'RingGroups', d.ringGroups as unknown as Row[]).map((g) => String(g.Number))
  ])
  return records.filter((r) => [r.from, r.to, r.queue?.dn, ...r.segments.flatMap((s) => [s.src.dn, s.dst.dn])].some((dn) => dn !== undefined && own.has(dn)))
}
