// The default PBX of docs/simulator.md (pbx/default.yaml). `seedDirectory()` returns a fresh deep
// copy each time, so a reset or a new simulator never shares state with another.
import type { SimDirectory } from './sim-types.js'
import { definitionToDirectory, type PbxDefinition } from './pbx-definition.js'

const FIRST = ['Anna', 'Tom', 'Maria', 'John', 'Olga', 'Peter', 'Sara', 'Liam', 'Emma', 'Noah',
  'Mia', 'Lucas', 'Zoe', 'Ben', 'Ivy', 'Max', 'Lea', 'Finn', 'Nora', 'Paul']
const LAST = ['Miller', 'Smith', 'Garcia', 'Brown', 'Ivanova', 'Jones', 'Davis', 'Wilson', 'Taylor', 'Moore',
  'Clark', 'Hall', 'Young', 'King', 'Wright', 'Scott', 'Green', 'Baker', 'Adams', "O'Brien"]

export const SEED_CLIENT = { clientId: '599', secret: 'sim-secret' } as const

function range (from: number, to: number): string[] {
  const out: string[] = []
  for (let n = from; n <= to; n++) out.push(String(n))
  return out
}

/** The default PBX as a definition; pbx/default.yaml is the same PBX as a file (a test keeps them equal). */
export const DEFAULT_PBX: PbxDefinition = {
  system: { version: '20.0.10.999', fqdn: 'sim.3cx.local', maxSimCalls: 2000, productCode: '3CXPSPROFENT' },
  users: range(100, 119).map((number, i) => ({ number, firstName: FIRST[i], lastName: LAST[i], ...(Number(number) > 114 ? { registered: false } : {}) })),
  departments: [
    { name: 'DEFAULT', number: 'GRP0000', members: range(100, 119) },
    { name: 'Sales', number: 'GRP0001', members: ['100', '101', '102', '103'] },
    { name: 'Support', number: 'GRP0002', members: ['104', '105'] }
  ],
  queues: [
    { number: '800', name: 'Sales', strategy: 'RingAll', ringTimeout: 20, masterTimeout: 60, agents: ['101', '102', '103'] },
    { number: '801', name: 'Support', strategy: 'Hunt', ringTimeout: 15, masterTimeout: 60, agents: ['104', '105'] }
  ],
  ringGroups: [{ number: '700', name: 'Reception', strategy: 'RingAll', ringTime: 20, members: ['100', '101'] }],
  ivrs: [{ number: '900', name: 'Main menu', prompt: 'main-menu.wav', timeout: 10, options: { 1: '800', 2: '801' } }],
  trunks: [{ number: '10000', name: 'Main SIP trunk', host: 'sip.example.net', externalNumber: '+15550100' }],
  dids: [
    { number: '+15550100', name: 'Main line', to: '900' },
    { number: '+15550101', name: 'Sales line', to: '800' },
    { number: '+15550102', name: 'Direct 102', to: '102' },
    { number: '+15550103', name: 'Reception line', to: '700' },
    { number: '+15550104', name: 'App line', to: SEED_CLIENT.clientId }
  ],
  // Like a real client: its route point plus the DNs picked one by one as "extensions to monitor".
  apiClients: [{ clientId: SEED_CLIENT.clientId, secret: SEED_CLIENT.secret, role: 'SystemOwner', monitored: [...range(100, 119), '700', '800', '801', '900', '10000'] }]
}

/** A fresh deep copy of the default PBX's directory. */
export function seedDirectory (): SimDirectory {
  return definitionToDirectory(DEFAULT_PBX)
}
