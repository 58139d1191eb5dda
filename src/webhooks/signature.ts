// Standard Webhooks signing (webhooks.md §4): `webhook-id` (constant across retries),
// `webhook-timestamp` (seconds) and `webhook-signature` (`v1,<base64 HMAC>` per secret,
// space-separated during a rotation). Uses the standardwebhooks package so receivers can verify
// with any Standard Webhooks library.
import { Webhook } from 'standardwebhooks'

const signers = new Map<string, Webhook>()

function signerFor (secret: string): Webhook {
  let s = signers.get(secret)
  if (s === undefined) {
    s = new Webhook(secret)
    signers.set(secret, s)
  }
  return s
}

export interface SignatureHeaders {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

/** Headers for `content` signed with every secret (the first is the current one). */
export function signatureHeaders (secrets: readonly string[], messageId: string, at: Date, content: string): SignatureHeaders {
  const signatures = secrets.map((secret) => signerFor(secret).sign(messageId, at, content))
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' ')
  }
}
