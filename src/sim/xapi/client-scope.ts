// What an API client's department lets it reach through XAPI. On a real PBX a client is created with
// a department (group) and a role, and XAPI answers are scoped to that department (3cx-v20.md §1):
// a department-scoped client reads only its department's users and places calls only from them;
// anything else is 403. A client without a department (the simulator's default) sees the whole PBX.
import type { SimApiClient, SimDirectory, SimUser } from '../sim-types.js'
import { ODataError } from './odata-error.js'

/** Whether the client's department holds the extension (always, for a PBX-wide client). */
export function inClientScope (d: SimDirectory, client: SimApiClient | undefined, number: string): boolean {
  if (client?.department === undefined) return true
  return d.groups.find((g) => g.Name === client.department)?.MemberNumbers.includes(number) === true
}

/** The users the client may read. */
export function usersInScope (d: SimDirectory, client: SimApiClient | undefined): SimUser[] {
  return client?.department === undefined ? d.users : d.users.filter((u) => inClientScope(d, client, u.Number))
}

/** 403 when the extension is outside the client's department. */
export function requireInScope (d: SimDirectory, client: SimApiClient | undefined, number: string, what: string): void {
  if (!inClientScope(d, client, number)) {
    throw new ODataError(403, 'Forbidden', `${what}: extension ${number} is not in the API client's department (${client?.department ?? ''}).`)
  }
}
