// JSON schemas of the legacy methods (legacy-api.md §3): querystrings (what is validated) and
// responses (what is serialised and documented at /docs, with examples and error codes).
import { DN_PATTERN, ON_OFF_PATTERN, PARAMETER_RULES, PHONE_PATTERN, PROFILE_PATTERN, RECORDING_PATTERN } from '../../src/legacy/params.js'

const str = { type: 'string' } as const
const strings = { type: 'array', items: str } as const

function param (name: string, pattern: string, example: string): object {
  return { type: 'string', pattern, description: `It ${PARAMETER_RULES[name]}.`, examples: [example] }
}

export const params = {
  num: param('num', DN_PATTERN, '101'),
  queueNum: { ...param('num', DN_PATTERN, '800'), description: 'Queue number.' },
  groupNum: { ...param('num', DN_PATTERN, '700'), description: 'Ring group number.' },
  first: param('first', DN_PATTERN, '101'),
  second: param('second', PHONE_PATTERN, '+1 555 987-0000'),
  // Not `.` or `..`: the device id is a PBX path segment, which a URL parser would resolve away.
  // A space is let through so the handler can say it was an unencoded "+" (normalizeContact).
  contact: { type: 'string', pattern: '^(?!\\.{1,2}$)[A-Za-z0-9@:._+;= -]{1,200}$', description: `It ${PARAMETER_RULES.contact}.` },
  // A string, not an integer: Fastify's Ajv coerces a 400-digit number to Infinity and lets it pass.
  timeout: { type: 'string', pattern: '^[1-9][0-9]{2,5}$', description: `It ${PARAMETER_RULES.timeout}.`, examples: ['5000'] },
  status: param('status', PROFILE_PATTERN, 'Away'),
  log: param('log', ON_OFF_PATTERN, 'on'),
  queue: param('queue', DN_PATTERN, '800'),
  enabled: param('enabled', ON_OFF_PATTERN, 'on'),
  external: param('external', ON_OFF_PATTERN, 'off'),
  recording: param('recording', RECORDING_PATTERN, 'all')
}

export function querystring (properties: Record<string, object>, required: string[] = Object.keys(properties)): object {
  return { type: 'object', properties, required }
}

export const noParams = { type: 'object', properties: {} }

function ok (schema: object, example: unknown, description = 'OK'): object {
  return { ...schema, description, examples: [example] }
}

export const numsResponse = (example: string[]): object =>
  ok({ type: 'object', required: ['nums'], properties: { nums: strings } }, { nums: example })

export const countResponse = ok({ type: 'object', required: ['result'], properties: { result: { type: 'integer' } } }, { result: 5 })

export const boolResponse = ok({ type: 'object', required: ['result'], properties: { result: { type: 'boolean' } } }, { result: true })

/** A setter's answer: `result:false` with an error when the PBX may override the change. */
export const setterResponse = ok({
  type: 'object',
  required: ['result'],
  properties: {
    result: { type: 'boolean' },
    error: { type: 'object', properties: { code: str, message: str } }
  }
}, { result: true })

export const makecallResponse = ok({
  type: 'object',
  required: ['result', 'chid', 'id'],
  properties: { result: { type: 'boolean' }, chid: str, id: str }
}, { result: true, chid: '7f3c2a9e-4d1b', id: '261121083716_1265-0' })

const aconn = {
  type: 'object',
  required: ['dnNum', 'dnType', 'externalParty', 'status'],
  properties: { dnNum: str, dnType: str, externalParty: str, status: { type: 'string', enum: ['Dialing', 'Ringing', 'Connected'] } }
}
const direction = { type: 'string', enum: ['FromExternal', 'FromInternal', 'Inbound', 'Outbound', 'External', 'Internal'] }

const exampleConnections = [
  { dnNum: '10000', dnType: 'externalline', externalParty: '+15557654321', status: 'Connected' },
  { dnNum: '101', dnType: 'extension', externalParty: '+15557654321', status: 'Connected' }
]

export const activeConnectionsResponse = ok({
  type: 'object',
  required: ['count', 'AConnByCallID'],
  properties: {
    count: { type: 'integer' },
    AConnByCallID: {
      type: 'array',
      items: {
        type: 'object',
        required: ['callID', 'direction', 'did', 'AConnList'],
        properties: { callID: { type: 'integer' }, direction, did: str, AConnList: { type: 'array', items: aconn } }
      }
    }
  }
}, { count: 1, AConnByCallID: [{ callID: 46874, direction: 'Inbound', did: 'Sales line', AConnList: exampleConnections }] })

export const callsInfoResponse = ok({
  type: 'object',
  required: ['count', 'callsInfo'],
  properties: {
    count: { type: 'integer' },
    callsInfo: {
      type: 'array',
      items: {
        type: 'object',
        required: ['callID', 'state', 'startedAt', 'answeredAt', 'did', 'owner', 'talkTo', 'routingTo'],
        properties: {
          callID: { type: 'integer' },
          state: { type: 'string', enum: ['Unknown', 'Initiating', 'Routing', 'Talking', 'Transferring', 'Rerouting'] },
          startedAt: str,
          answeredAt: { type: ['string', 'null'] },
          did: str,
          owner: { ...aconn, type: ['object', 'null'] },
          talkTo: { type: 'array', items: aconn },
          routingTo: { type: 'array', items: aconn }
        }
      }
    }
  }
}, {
  count: 1,
  callsInfo: [{
    callID: 46874, state: 'Talking', startedAt: '2026-11-21T08:37:16Z', answeredAt: '2026-11-21T08:37:23Z', did: 'Sales line',
    owner: exampleConnections[1], talkTo: [exampleConnections[0]], routingTo: []
  }]
})

export const departmentsResponse = ok({ type: 'object', required: ['extGroups'], properties: { extGroups: strings } }, { extGroups: ['DEFAULT', 'Sales'] })

export const extInfoResponse = ok({
  type: 'object',
  required: ['num', 'name', 'lastname', 'email', 'mobile', 'outboundCallerId', 'enabled', 'departments', 'profiles'],
  properties: {
    num: str, name: str, lastname: str, email: str, mobile: str, outboundCallerId: str,
    enabled: { type: 'boolean' }, departments: strings, profiles: strings
  }
}, {
  num: '101', name: 'Tom', lastname: 'Smith', email: 'tom@example.com', mobile: '+15551112222', outboundCallerId: '+15550101',
  enabled: true, departments: ['Sales'], profiles: ['Available', 'Away', 'Out of office', 'Custom 1', 'Custom 2']
})

const loginStatus = { type: 'string', enum: ['LoggedIn', 'LoggedOut'] }

export const extStateResponse = ok({
  type: 'object',
  required: ['num', 'registered', 'status', 'fwdName', 'qGlobalStatus', 'qStatus'],
  properties: {
    num: str,
    registered: { type: 'boolean' },
    status: { type: 'string', enum: ['Free', 'Busy'] },
    fwdName: str,
    qGlobalStatus: loginStatus,
    qStatus: { type: 'array', items: { type: 'object', required: ['num', 'status'], properties: { num: str, status: loginStatus } } }
  }
}, {
  num: '101', registered: true, status: 'Busy', fwdName: 'Available', qGlobalStatus: 'LoggedIn',
  qStatus: [{ num: '800', status: 'LoggedIn' }, { num: '801', status: 'LoggedIn' }]
})

export const gatewayInfoResponse = ok({
  type: 'object',
  required: ['product', 'version', 'mode', 'pbx', 'uptimeS'],
  properties: {
    product: str,
    version: str,
    mode: { type: 'string', enum: ['demo', 'pbx'] },
    pbx: { type: 'object', required: ['url', 'version', 'reachable'], properties: { url: str, version: str, reachable: { type: 'boolean' } } },
    uptimeS: { type: 'integer' },
    simulator: str
  }
}, {
  product: '3cx-gateway', version: '0.1.0', mode: 'pbx',
  pbx: { url: 'https://pbx.example.com:5001', version: '20.0.10.123', reachable: true }, uptimeS: 3600
})
