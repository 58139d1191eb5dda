// The default PBX of docs/simulator.md §2. `seedDirectory()` returns a fresh deep copy each
// time, so a reset or a new simulator never shares state with another.
import type {
  SimDestination, SimDirectory, SimForwardingProfile, SimGroup, SimUser, SimUserGroup
} from './sim-types.js'

const FIRST = ['Anna', 'Tom', 'Maria', 'John', 'Olga', 'Peter', 'Sara', 'Liam', 'Emma', 'Noah',
  'Mia', 'Lucas', 'Zoe', 'Ben', 'Ivy', 'Max', 'Lea', 'Finn', 'Nora', 'Paul']
const LAST = ['Miller', 'Smith', 'Garcia', 'Brown', 'Ivanova', 'Jones', 'Davis', 'Wilson', 'Taylor', 'Moore',
  'Clark', 'Hall', 'Young', 'King', 'Wright', 'Scott', 'Green', 'Baker', 'Adams', "O'Brien"]

/** The five V20 forwarding profiles: internal Name and display CustomName. */
export const PROFILE_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['Available', 'Available'],
  ['Away', 'Away'],
  ['OutOfOffice', 'Out of office'],
  ['Available2', 'Custom 1'],
  ['OutOfOffice2', 'Custom 2']
]

export const SEED_CLIENT = { clientId: '599', secret: 'sim-secret' } as const

const DEPARTMENTS: Array<{ name: string, number: string, members: string[] }> = [
  { name: 'DEFAULT', number: 'GRP0000', members: range(100, 119) },
  { name: 'Sales', number: 'GRP0001', members: ['100', '101', '102', '103'] },
  { name: 'Support', number: 'GRP0002', members: ['104', '105'] }
]

function range (from: number, to: number): string[] {
  const out: string[] = []
  for (let n = from; n <= to; n++) out.push(String(n))
  return out
}

function profiles (userIndex: number): SimForwardingProfile[] {
  return PROFILE_NAMES.map(([Name, CustomName], i) => ({
    Id: userIndex * 10 + i + 1,
    Name,
    CustomName,
    AcceptMultipleCalls: false,
    NoAnswerTimeout: 20,
    OfficeHoursAutoQueueLogOut: false
  }))
}

function userGroups (num: string, display: string): SimUserGroup[] {
  return DEPARTMENTS
    .map((d, i) => ({ d, i }))
    .filter(({ d }) => d.members.includes(num))
    .map(({ d, i }) => ({
      Id: 1000 + i * 100 + Number(num) % 100,
      GroupId: i + 1,
      Name: d.name,
      Number: d.number,
      MemberName: display,
      Type: 'Extension' as const,
      Rights: { RoleName: 'users' }
    }))
}

function user (n: number): SimUser {
  const i = n - 100
  const num = String(n)
  const first = FIRST[i]
  const last = LAST[i]
  const display = `${first} ${last}`
  return {
    Id: i + 1,
    Number: num,
    FirstName: first,
    LastName: last,
    DisplayName: display,
    EmailAddress: `${first.toLowerCase()}.${last.toLowerCase().replace(/[^a-z]/g, '')}@example.com`,
    Mobile: `+1555111${String(2000 + i)}`,
    OutboundCallerID: '+15550100',
    Enabled: true,
    IsRegistered: n <= 114,
    CurrentProfileName: 'Available',
    QueueStatus: 'LoggedIn',
    RecordCalls: false,
    RecordExternalCallsOnly: false,
    Internal: false,
    PrimaryGroupId: 1,
    Tags: [],
    Groups: userGroups(num, display),
    ForwardingProfiles: profiles(i)
  }
}

function dest (To: SimDestination['To'], Number: string, Name: string): SimDestination {
  return { To, Number, Name, External: '' }
}

function agent (users: SimUser[], num: string, id: number): { Id: number, Number: string, Name: string, SkillGroup: string, Tags: string[] } {
  const u = users.find((x) => x.Number === num)
  return { Id: id, Number: num, Name: u?.DisplayName ?? num, SkillGroup: '1', Tags: [] }
}

export function seedDirectory (): SimDirectory {
  const users = range(100, 119).map((n) => user(Number(n)))
  const trunkPeer = { Id: 50, Name: 'Main SIP trunk', Number: '10000', Type: 'ExternalLine' as const, Hidden: false, Tags: [] }
  const rule = (Id: number, RuleName: string, Data: string, d: SimDestination): SimDirectory['inboundRules'][number] => ({
    Id, RuleName, Data, Condition: 'BasedOnDID', CallType: 'AllCalls', TrunkDN: { ...trunkPeer },
    OfficeHoursDestination: d, OutOfOfficeHoursDestination: { ...d }, HolidaysDestination: { ...d }, CustomData: ''
  })
  const groups: SimGroup[] = DEPARTMENTS.map((d, i) => ({
    Id: i + 1, Number: d.number, Name: d.name, IsDefault: i === 0, HasMembers: d.members.length > 0, MemberNumbers: [...d.members]
  }))
  return {
    users,
    queues: [
      {
        Id: 40, Number: '800', Name: 'Sales', IsRegistered: true, PollingStrategy: 'RingAll', RingTimeout: 20, MasterTimeout: 60,
        MaxCallersInQueue: 10, SLATime: 20, WrapUpTime: 0, Recording: 'Disabled',
        Agents: ['101', '102', '103'].map((n, k) => agent(users, n, 400 + k))
      },
      {
        Id: 41, Number: '801', Name: 'Support', IsRegistered: true, PollingStrategy: 'Hunt', RingTimeout: 15, MasterTimeout: 60,
        MaxCallersInQueue: 10, SLATime: 20, WrapUpTime: 0, Recording: 'Disabled',
        Agents: ['104', '105'].map((n, k) => agent(users, n, 410 + k))
      }
    ],
    ringGroups: [
      {
        Id: 30, Number: '700', Name: 'Reception', IsRegistered: true, RingStrategy: 'RingAll', RingTime: 20,
        Members: ['100', '101'].map((n, k) => ({ Id: 300 + k, Number: n, Name: users.find((u) => u.Number === n)?.DisplayName ?? n, Tags: [] }))
      }
    ],
    receptionists: [
      {
        Id: 20, Number: '900', Name: 'Main menu', IsRegistered: true, IVRType: 'Default', PromptFilename: 'main-menu.wav', Timeout: 10,
        Forwards: [
          { Id: 201, Input: '1', ForwardType: 'Queue', ForwardDN: '800', PeerType: 'Queue', CustomData: '' },
          { Id: 202, Input: '2', ForwardType: 'Queue', ForwardDN: '801', PeerType: 'Queue', CustomData: '' }
        ]
      }
    ],
    trunks: [
      {
        Id: 50, Number: '10000', IsOnline: true, Direction: 'Both', ExternalNumber: '+15550100',
        Gateway: { Name: 'Main SIP trunk', Host: 'sip.example.net', Port: 5060, Type: 'Provider' },
        DidNumbers: ['+15550100', '+15550101', '+15550102'], EnableInboundCalls: true, EnableOutboundCalls: true,
        SimultaneousCalls: 2000, OutboundCallerID: '+15550100'
      }
    ],
    didNumbers: ['+15550100', '+15550101', '+15550102'].map((Number) => ({ Number, TrunkId: 50, TemplateFileName: '' })),
    inboundRules: [
      rule(60, 'Main line', '+15550100', dest('IVR', '900', 'Main menu')),
      rule(61, 'Sales line', '+15550101', dest('Queue', '800', 'Sales')),
      rule(62, 'Direct 102', '+15550102', dest('Extension', '102', users[2].DisplayName)),
      rule(63, 'App line', '+15550103', dest('RoutePoint', SEED_CLIENT.clientId, `API client ${SEED_CLIENT.clientId}`))
    ],
    groups,
    apiClients: [
      { clientId: SEED_CLIENT.clientId, secret: SEED_CLIENT.secret, xapi: true, callControl: true, role: 'SystemOwner', monitored: 'all' }
    ],
    system: { Version: '20.0.10.999', FQDN: 'sim.3cx.local', MaxSimCalls: 2000, ProductCode: '3CXPSPROFENT', LicenseActive: true, LicenseKey: 'SIM0-0000-0000-0001' }
  }
}
