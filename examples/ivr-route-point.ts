// A small IVR on a 3CX V20 route point, using only the documented Call Control API: it answers each
// call on the route point, plays a prompt, reads one DTMF digit and transfers the caller to the
// queue that digit names. Runs against a real PBX or against `3cx-gateway sim --tls`:
//   PBX_URL=https://127.0.0.1:5001 PBX_CLIENT_ID=599 PBX_CLIENT_SECRET=sim-secret \
//   NODE_EXTRA_CA_CERTS=sim-cert.pem npx tsx examples/ivr-route-point.ts
import WebSocket from 'ws'
import { Agent, fetch } from 'undici'

export interface IvrOptions {
  pbxUrl: string
  clientId: string
  clientSecret: string
  /** Digit → queue number, e.g. {"1":"800","2":"801"}. */
  menu: Record<string, string>
  /** The prompt: raw PCM 16-bit 8 kHz mono. */
  prompt: Buffer
  /** A certificate to trust (a development PBX's self-signed one). */
  ca?: string
}

export async function startIvr (o: IvrOptions): Promise<{ close: () => void }> {
  const dispatcher = o.ca === undefined ? undefined : new Agent({ connect: { ca: o.ca } })
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: o.clientId, client_secret: o.clientSecret })
  const token = await (await fetch(`${o.pbxUrl}/connect/token`, { method: 'POST', body: form, dispatcher })).json() as { access_token: string }
  const auth = { authorization: `Bearer ${token.access_token}` }
  const post = async (path: string, body: string | Buffer, type = 'application/json'): Promise<void> => {
    await fetch(o.pbxUrl + path, { method: 'POST', headers: { ...auth, 'content-type': type }, body, dispatcher })
  }
  const prompted = new Set<number>()
  const ws = new WebSocket(`${o.pbxUrl.replace(/^http/, 'ws')}/callcontrol/ws`, { headers: auth, ca: o.ca })
  ws.on('message', (raw) => {
    const { event } = JSON.parse(String(raw)) as { event: { event_type: number, entity: string, attached_data: { dtmf_input?: string } | null } }
    const [, , dn, , id] = event.entity.split('/') // /callcontrol/{dn}/participants/{id}
    if (dn !== o.clientId) return
    void (async () => {
      if (event.event_type === 0) { // upsert: fetch the participant, answer it, then prompt once
        const res = await fetch(o.pbxUrl + event.entity, { headers: auth, dispatcher })
        if (!res.ok) return
        const p = await res.json() as { id: number, status: string }
        if (p.status === 'Ringing') await post(`${event.entity}/answer`, '{}')
        else if (p.status === 'Connected' && !prompted.has(p.id)) {
          prompted.add(p.id)
          await post(`${event.entity}/stream`, o.prompt, 'application/octet-stream')
        }
      } else if (event.event_type === 2) { // DTMF: the first key picks the queue
        const queue = o.menu[event.attached_data?.dtmf_input?.[0] ?? '']
        if (queue !== undefined) await post(`/callcontrol/${dn}/participants/${id}/transferto`, JSON.stringify({ destination: queue }))
      }
    })().catch((err: unknown) => { console.error('ivr:', err) })
  })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  return { close: () => { ws.close(); void dispatcher?.close() } }
}

if (process.argv[1]?.endsWith('ivr-route-point.ts') === true) {
  const env = process.env
  await startIvr({
    pbxUrl: env.PBX_URL ?? 'https://127.0.0.1:5001',
    clientId: env.PBX_CLIENT_ID ?? '599',
    clientSecret: env.PBX_CLIENT_SECRET ?? 'sim-secret',
    menu: { 1: '800', 2: '801' },
    prompt: Buffer.alloc(2 * 8000) // one second of silence
  })
  console.log('IVR answering calls on the route point; Ctrl-C to stop')
}
