// The REST half of the Call Control API (3cx-v20.md §5): the full snapshot, one participant, and
// the actions (makecall, drop, answer, divert, routeto, transferto). Reads are retried by the
// requester; actions never are, since a retried makecall would dial twice.
import { PbxError } from './pbx-api.js'
import type {
  CallControlRequestBody,
  CallControlResult,
  CallParticipant,
  DNInfo,
  ParticipantAction
} from './callcontrol-types.js'
import { parseJson, type PbxRequester } from './pbx-requester.js'
import { pathSegment } from './odata.js'

export const PARTICIPANT_ACTIONS: readonly ParticipantAction[] = ['drop', 'answer', 'divert', 'routeto', 'transferto']

/** `CallRequestStatus` Success (1), as a number or a string. */
export function isSuccessStatus (finalstatus: unknown): boolean {
  return finalstatus === 1 || /^\s*(1|success)\s*$/i.test(String(finalstatus))
}

/** What the change feed reads from the PBX (a fake one in tests). */
export interface CallControlReader {
  snapshot (signal?: AbortSignal): Promise<DNInfo[]>
  /** One participant; a PbxError PBX_NOT_FOUND when it is gone. */
  participant (dn: string, id: number, signal?: AbortSignal): Promise<CallParticipant>
}

export class CallControlRest implements CallControlReader {
  constructor (private readonly requester: PbxRequester) {}

  async snapshot (signal?: AbortSignal): Promise<DNInfo[]> {
    const answer = await this.requester.send({ api: 'callcontrol', method: 'GET', path: '/callcontrol', route: 'callcontrol', headers: { accept: 'application/json' }, idempotent: true, signal })
    const dns = parseJson<unknown>(answer, 'GET callcontrol')
    if (!Array.isArray(dns)) throw new PbxError('PBX_ERROR', 'GET callcontrol: the PBX did not answer a list of DNs', 502, answer.status)
    return dns as DNInfo[]
  }

  async participant (dn: string, id: number, signal?: AbortSignal): Promise<CallParticipant> {
    const answer = await this.requester.send({
      api: 'callcontrol',
      method: 'GET',
      path: `/callcontrol/${encodeURIComponent(dn)}/participants/${id}`,
      route: 'callcontrol/{dn}/participants/{id}',
      headers: { accept: 'application/json' },
      idempotent: true,
      signal
    })
    return parseJson<CallParticipant>(answer, 'GET callcontrol participant')
  }

  async makeCall (dn: string, body: CallControlRequestBody, deviceId?: string): Promise<CallControlResult> {
    const device = deviceId === undefined || deviceId === '' ? '' : `/devices/${pathSegment(deviceId)}`
    const route = device === '' ? 'callcontrol/{dn}/makecall' : 'callcontrol/{dn}/devices/{device}/makecall'
    return await this.post(`/callcontrol/${pathSegment(dn)}${device}/makecall`, route, body)
  }

  async action (dn: string, participantId: number, action: ParticipantAction, body: CallControlRequestBody = {}): Promise<CallControlResult> {
    if (!PARTICIPANT_ACTIONS.includes(action)) {
      throw new PbxError('PBX_REJECTED', `"${String(action)}" is not a Call Control action; use one of ${PARTICIPANT_ACTIONS.join(', ')}`, 400)
    }
    if (!Number.isInteger(participantId) || participantId < 0) {
      throw new PbxError('PBX_REJECTED', 'a participant id is a non-negative whole number', 400)
    }
    return await this.post(`/callcontrol/${pathSegment(dn)}/participants/${participantId}/${action}`, `callcontrol/{dn}/participants/{id}/${action}`, body)
  }

  /** POST actions are never retried: a retried makecall would dial twice. */
  private async post (path: string, route: string, body: CallControlRequestBody): Promise<CallControlResult> {
    const answer = await this.requester.send({
      api: 'callcontrol',
      method: 'POST',
      path,
      route,
      headers: { accept: 'application/json', 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
      idempotent: false
    })
    const result = parseJson<CallControlResult | undefined>(answer, `POST ${route}`) ?? { finalstatus: 1, reason: '', reasontext: '', result: null }
    const id = result.result?.id
    if ((id === undefined || id === null) && !isSuccessStatus(result.finalstatus)) {
      const why = [result.reasontext, result.reason, `finalstatus ${String(result.finalstatus)}`].find((s) => typeof s === 'string' && s !== '' && s !== 'None')
      throw new PbxError('PBX_REJECTED', `POST ${route}: the PBX did not perform it (${why ?? 'no reason given'})`, 502, answer.status)
    }
    return result
  }
}
