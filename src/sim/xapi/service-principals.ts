// The API clients as XAPI shows them: `GET /ServicePrincipals` (Pbx.ServicePrincipal, a DN whose
// Number is the client id) with the DNs it monitors as its `Peers` navigation (Pbx.Peer). That Peers
// is the monitored list is how the swagger models it; 3cx-v20.md §1 marks it unverified. A client
// monitoring `all` lists every DN of the PBX, as a real PBX's client lists them one by one. Secrets
// are never part of a row. The rows live in the generic entity store (POST, PATCH, DELETE work as on
// any set); a client's Peers are recomputed on every read, so a DN deleted through XAPI leaves the
// list at once (xapi-actions.ts).
import type { SimApiClient, SimDirectory } from '../sim-types.js'
import type { Row } from './odata-filter.js'
import { defaultRecord } from './schema-defaults.js'

interface Dn { Id: number, Number: string, Name: string, Type: string }

/** Every DN of the directory with its Pbx.PeerType. */
function dns (d: SimDirectory): Dn[] {
  return [
    ...d.users.map((u) => ({ Id: u.Id, Number: u.Number, Name: u.DisplayName, Type: 'Extension' })),
    ...d.queues.map((q) => ({ Id: q.Id, Number: q.Number, Name: q.Name, Type: 'Queue' })),
    ...d.ringGroups.map((g) => ({ Id: g.Id, Number: g.Number, Name: g.Name, Type: 'RingGroup' })),
    ...d.receptionists.map((r) => ({ Id: r.Id, Number: r.Number, Name: r.Name, Type: 'IVR' })),
    ...d.trunks.map((t) => ({ Id: t.Id, Number: t.Number, Name: t.Gateway.Name, Type: 'ExternalLine' }))
  ]
}

function peers (d: SimDirectory, client: SimApiClient): Row[] {
  const all = dns(d)
  const chosen = client.monitored === 'all' ? all : client.monitored.flatMap((n) => all.filter((dn) => dn.Number === n))
  return chosen.map((dn) => ({ ...dn, Hidden: false, Tags: [] }))
}

/** Brings each client's row's Peers up to date with its monitored list (rows are changed in place). */
export function syncServicePrincipals (d: SimDirectory, rows: Row[]): void {
  for (const row of rows) {
    const client = d.apiClients.find((c) => c.clientId === row.Number)
    if (client !== undefined) row.Peers = peers(d, client)
  }
}

/** One Pbx.ServicePrincipal row per API client (Id: its position, from 1): the set's first records. */
export function servicePrincipalRows (d: SimDirectory): Row[] {
  return d.apiClients.map((c, i) => ({
    ...defaultRecord('Pbx.ServicePrincipal'),
    Id: i + 1,
    Number: c.clientId,
    XAPIEnabled: c.xapi,
    CallControlEnabled: c.callControl,
    MyPhoneEnabled: false,
    IsSystem: false,
    LastUsed: null,
    Groups: [],
    Peers: peers(d, c)
  }))
}
