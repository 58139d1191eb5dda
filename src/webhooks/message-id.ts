// The webhook id of an event (`webhook-id`, webhooks.md §4): derived from the event's natural key
// when it has one, so an event the call model derives again (a replica resuming a call from an older
// state) gets the id of the stored copy, which the outbox keeps alone (its unique message_id) and
// receivers can dedupe on. Events without a key get a random id.
import { createHash, randomUUID } from 'node:crypto'

export function messageIdOf (key: string | undefined): string {
  if (key === undefined) return `msg_${randomUUID()}`
  return `msg_${createHash('sha256').update(key).digest('base64url').slice(0, 32)}`
}
