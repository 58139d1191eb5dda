// The webhook id of an event (`webhook-id`, webhooks.md §4): derived from the event's natural key
// when it has one, so an event the call model derives again (a replica resuming a call from an older
// state) gets the id of the stored copy, which the outbox keeps alone (its unique message_id) and
// receivers can dedupe on. Events without a key get a random id. `scope` names the PBX (its tenant id,
// else its address): call ids are per PBX, so two PBXs (tenants sending to one receiver) would otherwise
// give the same id to different events, and a receiver deduping on it would drop a real one.
import { createHash, randomUUID } from 'node:crypto'

export function messageIdOf (key: string | undefined, scope = ''): string {
  if (key === undefined) return `msg_${randomUUID()}`
  return `msg_${createHash('sha256').update(scope).update('\n').update(key).digest('base64url').slice(0, 32)}`
}
