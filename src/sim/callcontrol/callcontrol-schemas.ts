// JSON schemas of the simulator's Call Control routes (snake_case wire shapes of 3cx-v20.md §5).
const str = { type: 'string' } as const

export const participantSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    status: str,
    dn: str,
    party_caller_name: str,
    party_dn: str,
    party_caller_id: str,
    party_did: str,
    device_id: str,
    party_dn_type: str,
    direct_control: { type: 'boolean' },
    originated_by_dn: str,
    originated_by_type: str,
    referred_by_dn: str,
    referred_by_type: str,
    on_behalf_of_dn: str,
    on_behalf_of_type: str,
    callid: { type: 'integer' },
    legid: { type: 'integer' }
  }
} as const

export const deviceSchema = {
  type: 'object',
  properties: { dn: str, device_id: str, user_agent: str }
} as const

export const dnInfoSchema = {
  type: 'object',
  properties: { dn: str, type: str, devices: { type: 'array', items: deviceSchema }, participants: { type: 'array', items: participantSchema } }
} as const

export const resultSchema = {
  type: 'object',
  properties: { finalstatus: str, reason: str, reasontext: str, result: { anyOf: [participantSchema, { type: 'null' }] } }
} as const

export const dnParams = {
  type: 'object',
  required: ['dn'],
  properties: { dn: { type: 'string', minLength: 1, maxLength: 64 } }
} as const

export const participantParams = {
  type: 'object',
  required: ['dn', 'id'],
  properties: { dn: { type: 'string', minLength: 1, maxLength: 64 }, id: { type: 'integer', minimum: 1 } }
} as const

export const deviceParams = {
  type: 'object',
  required: ['dn', 'deviceid'],
  properties: { dn: { type: 'string', minLength: 1, maxLength: 64 }, deviceid: { type: 'string', minLength: 1, maxLength: 512 } }
} as const

export const PARTICIPANT_ACTIONS = ['drop', 'answer', 'divert', 'routeto', 'transferto', 'attach_participant_data'] as const

export const actionParams = {
  type: 'object',
  required: ['dn', 'id', 'action'],
  properties: {
    dn: { type: 'string', minLength: 1, maxLength: 64 },
    id: { type: 'integer', minimum: 1 },
    action: { type: 'string', enum: PARTICIPANT_ACTIONS }
  }
} as const

/** makecall and participant actions (3cx-v20.md §5.4); the body may be missing or `{}`. */
export const requestBodySchema = {
  type: ['object', 'null'],
  properties: {
    destination: { type: 'string', maxLength: 64 },
    reason: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
    timeout: { type: 'integer', minimum: 0 },
    attacheddata: { type: 'object' }
  }
} as const
