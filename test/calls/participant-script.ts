// Test helper: plays participant streams written as in docs/DEVELOPING.md ("+10000#p1 Ringing
// party_dn=800 …", "-101#p3", "wait 65000") into a CallTracker or a CallModel. An upsert of a
// known leg only lists what changed, as the docs do; the helper merges it into the last entity.
import type { CallEvent } from '../../src/calls/call-events.js'
import type { CallTracker } from '../../src/calls/derivation/call-tracker.js'
import type { CallControlDnType, CallParticipant, ParticipantChange } from '../../src/pbx/callcontrol-types.js'

export const CALLER = '+15557654321'
export const T0 = Date.UTC(2026, 10, 21, 8, 37, 16)

/** Rule "Sales line" → queue 800 (ring all): the queue answers at once, then agents ring (DEVELOPING.md). */
export function queueRinging (agents: readonly string[] = ['101', '102', '103']): string[] {
  return [
    `+10000#p1 Ringing party_dn=800 party_dn_type=Wqueue party_caller_id=${CALLER}`,
    `+800#p2 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} originated_by_dn=ROUTER originated_by_type=Wroutepoint`,
    '+10000#p1 Connected party_dn=800',
    ...agents.map((dn, i) => `+${dn}#p${i + 3} Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} on_behalf_of_dn=800 on_behalf_of_type=Wqueue`)
  ]
}

export function dnTypeOf (dn: string): CallControlDnType {
  if (dn === '10000') return 'Wexternalline'
  if (dn === '800' || dn === '801') return 'Wqueue'
  if (dn === '700') return 'Wringgroup'
  if (dn === '900') return 'Wivr'
  if (dn === '599') return 'Wroutepoint'
  return 'Wextension'
}

const TEXT_FIELDS = ['party_caller_name', 'party_dn', 'party_caller_id', 'party_did', 'device_id', 'originated_by_dn', 'referred_by_dn', 'on_behalf_of_dn'] as const
const TYPE_FIELDS = ['party_dn_type', 'originated_by_type', 'referred_by_type', 'on_behalf_of_type'] as const

/** A participant with Call Control's empty values ("" and "None") for everything not given. */
export function participant (dn: string, id: number, callid: number, fields: Partial<CallParticipant> = {}): CallParticipant {
  const empty = Object.fromEntries([...TEXT_FIELDS.map((k) => [k, '']), ...TYPE_FIELDS.map((k) => [k, 'None'])]) as Pick<CallParticipant, typeof TEXT_FIELDS[number] | typeof TYPE_FIELDS[number]>
  return { id, status: 'Ringing', dn, ...empty, direct_control: false, callid, legid: id, ...fields }
}

/** Parses `key=value key2="a b"` pairs; `CALLER` stands for the external number. */
function fieldsOf (rest: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of rest.matchAll(/(\w+)=("([^"]*)"|\S*)/g)) {
    const v = m[3] ?? m[2]
    out[m[1]] = v === 'CALLER' ? CALLER : v
  }
  return out
}

/** Turns script lines into changes; each step is 10 ms after the previous unless `wait N` says more. */
export function changesOf (lines: readonly string[], callid = 1265, start = T0): ParticipantChange[] {
  const known = new Map<string, CallParticipant>()
  const out: ParticipantChange[] = []
  let at = start
  for (const raw of lines.flatMap((l) => l.split(/\s*;\s*/)).map((l) => l.trim()).filter(Boolean)) {
    const wait = /^wait (\d+)$/.exec(raw)
    if (wait !== null) { at += Number(wait[1]); continue }
    at += 10
    const m = /^([+-])(\d+)#p?(\d+)\s*(\w+)?\s*(.*)$/.exec(raw)
    if (m === null) throw new Error(`bad script line: ${raw}`)
    const [, sign, dn, idText, status, rest] = m
    const id = Number(idText)
    const key = `${dn}#${id}`
    if (sign === '-') {
      known.delete(key)
      out.push({ kind: 'remove', dn, id, at })
      continue
    }
    const prev = known.get(key) ?? participant(dn, id, callid)
    const p: CallParticipant = { ...prev, ...(fieldsOf(rest ?? '') as Partial<CallParticipant>), status: status as CallParticipant['status'] }
    known.set(key, p)
    out.push({ kind: 'upsert', participant: p, dnType: dnTypeOf(dn), at })
  }
  return out
}

/** Plays script lines into `tracker` as its owner would (expire() whenever a deadline passes first, then until none is left). */
export function playInto (tracker: CallTracker, lines: readonly string[], callid: number): CallEvent[] {
  const events: CallEvent[] = []
  let last = T0
  for (const c of changesOf(lines, callid)) {
    const due = tracker.deadline()
    if (due !== null && due <= c.at) events.push(...tracker.expire(due))
    if (c.kind === 'upsert') events.push(...tracker.upsert(c.participant, c.dnType, c.at))
    else if (c.kind === 'remove') events.push(...tracker.remove(c.dn, c.id, c.at))
    last = c.at
  }
  for (let due = tracker.deadline(); due !== null; due = tracker.deadline()) events.push(...tracker.expire(Math.max(due, last)))
  return events
}

/** An event in a line: event, user, trtype, finishtype and `transfer=…` where it has them (`incoming 102 Ok transfer=true`). */
export function transferBrief (e: CallEvent): string {
  const p = e.payload as unknown as Record<string, unknown>
  return [p.event, p.user, p.trtype, p.finishtype, p.transfer === undefined ? undefined : `transfer=${String(p.transfer)}`].filter((x) => x !== undefined).join(' ')
}
