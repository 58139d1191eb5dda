// Schemas every HTTP route shares: the error body, the key as a path parameter of the vendor URL
// form `/webapi/{key}/…`, and how a key may be sent (for the docs). Routes import them from here,
// never from each other.
import type { FastifySchema } from 'fastify'

const str = { type: 'string' } as const

/** Path parameters of the vendor form `/webapi/{key}/{method}` (routes hidden from the docs). */
export const KEY_PARAM = { type: 'object', properties: { key: { type: 'string', description: 'The API key (vendor URL form).' } }, required: ['key'] }

export const errorSchema = {
  type: 'object',
  required: ['result', 'error'],
  properties: {
    result: { type: 'boolean', enum: [false] },
    error: { type: 'object', required: ['code', 'message'], properties: { code: str, message: str } }
  }
}

function errorResponse (description: string, code: string, message: string): object {
  return { ...errorSchema, description, examples: [{ result: false, error: { code, message } }] }
}

/** The error answers every method can give, documented once. */
export const errorResponses = {
  400: errorResponse('BAD_PARAMETER: a parameter is missing or ill-formed; DUPLICATE_PARAMETER: one is given more than once (the message names it).', 'BAD_PARAMETER', 'Parameter "num" is missing; it must be an extension, queue or ring group number: 1–20 characters of A–Z, a–z, 0–9, *, # or +'),
  401: errorResponse('UNAUTHORIZED: missing or wrong API key.', 'UNAUTHORIZED', 'Missing or invalid API key: send it as /webapi/{key}/{method}, ?key= or the X-API-Key header'),
  403: errorResponse('FORBIDDEN_SCOPE: a read key on a control method.', 'FORBIDDEN_SCOPE', 'This API key may only read; this method needs a key with the control scope'),
  404: errorResponse('EXT_NOT_FOUND, QUEUE_NOT_FOUND, GROUP_NOT_FOUND, DEVICE_NOT_FOUND (the contact of makecall) or UNKNOWN_METHOD.', 'EXT_NOT_FOUND', 'Extension 999 does not exist on the PBX'),
  422: errorResponse('PBX_REJECTED: the PBX refused what was asked (e.g. a number it cannot dial); the message gives its reason.', 'PBX_REJECTED', 'The PBX refused to place the call from 101 to 0: destination "0" is neither a known DN nor an external number; check "second" (and "contact")'),
  429: errorResponse('RATE_LIMITED: too many requests with this key, or too many failed keys from this address (see Retry-After).', 'RATE_LIMITED', 'Too many requests with this API key; retry in 42 s'),
  502: errorResponse('The PBX answered with an error (PBX_FORBIDDEN, PBX_AUTH_FAILED, PBX_ERROR, …); the message says what it usually means.', 'PBX_FORBIDDEN', 'XAPI answered 403. The API client lacks a right: it usually needs the System Owner role and XAPI / Call Control access.'),
  503: errorResponse('PBX_UNREACHABLE or NOT_READY; STREAM_HOLDER_UNAVAILABLE: makecall on a standby replica that no replica holding the event stream answered (the message says whether the call was placed).', 'PBX_UNREACHABLE', 'The PBX is unreachable. Check PBX_URL and that the PBX is up and reachable from the gateway.'),
  504: errorResponse('PBX_TIMEOUT: the PBX did not answer in time.', 'PBX_TIMEOUT', 'The PBX did not answer within 10000 ms')
}

/** How a key may be sent, for the docs (never an actual key). */
export const API_KEY_SECURITY: Array<Record<string, string[]>> = [{ apiKeyHeader: [] }, { apiKeyQuery: [] }]

/** The schema of a route's vendor form `/webapi/{key}/…`: the same, with the key as a path parameter, hidden from the docs. */
export function webapiKeyForm<S extends FastifySchema> (schema: S): S & { params: typeof KEY_PARAM, hide: true } {
  return { ...schema, params: KEY_PARAM, hide: true }
}
