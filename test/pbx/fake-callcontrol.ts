// A minimal stand-in for a PBX's Call Control side (token, REST and WebSocket) whose timing the test
// controls exactly: delayed snapshots, 404s, refused upgrades, silent sockets. Real sockets on
// 127.0.0.1; the simulator covers the realistic call flows.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import type { CallParticipant, DNInfo } from '../../src/pbx/callcontrol-types.js'

export interface FakeCallControl {
  url: string
  dns: DNInfo[]
  sockets: Set<WebSocket>
  /** Requests seen, as "METHOD path". */
  requests: string[]
  /** Answers the next upgrades with this status instead of accepting them (one per entry). */
  refuseUpgrades: number[]
  /** Held before answering GET /callcontrol, when set. */
  snapshotGate: Promise<void> | null
  /** Answers the next snapshots with these statuses instead (one per entry). */
  failSnapshots: number[]
  /** Held before answering a participant GET, per "dn/id". */
  participantGate: Map<string, Promise<void>>
  /** Answers a participant GET with this status instead, per "dn/id". */
  participantStatus: Map<string, number>
  /** Answers to POSTs, by path. */
  postAnswers: Map<string, { status: number, body: unknown }>
  tokensIssued: number
  participant: (dn: string, id: number) => CallParticipant | undefined
  send: (eventType: number, dn: string, id: number) => void
  close: () => Promise<void>
}

export function participant (dn: string, id: number, over: Partial<CallParticipant> = {}): CallParticipant {
  return {
    id, status: 'Ringing', dn, party_caller_name: '', party_dn: '10000', party_caller_id: '+15557654321', party_did: '', device_id: '',
    party_dn_type: 'Wexternalline', direct_control: false, originated_by_dn: '', originated_by_type: 'None', referred_by_dn: '',
    referred_by_type: 'None', on_behalf_of_dn: '', on_behalf_of_type: 'None', callid: 1, legid: 1, ...over
  }
}

export async function startFakeCallControl (t: { teardown: (fn: () => unknown) => void }): Promise<FakeCallControl> {
  let sequence = 0
  const fake: FakeCallControl = {
    url: '',
    dns: [
      { dn: '101', type: 'Wextension', devices: [], participants: [] },
      { dn: '800', type: 'Wqueue', devices: [], participants: [] }
    ],
    sockets: new Set(),
    requests: [],
    refuseUpgrades: [],
    snapshotGate: null,
    failSnapshots: [],
    participantGate: new Map(),
    participantStatus: new Map(),
    postAnswers: new Map(),
    tokensIssued: 0,
    participant: (dn, id) => fake.dns.find((d) => d.dn === dn)?.participants.find((p) => p.id === id),
    send (eventType, dn, id) {
      const msg = JSON.stringify({ sequence: ++sequence, event: { event_type: eventType, entity: `/callcontrol/${dn}/participants/${id}`, attached_data: null } })
      for (const s of fake.sockets) s.send(msg)
    },
    async close () {
      for (const s of fake.sockets) s.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => { resolve() }))
    }
  }
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.statusCode = status
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(body))
  }
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = req.url ?? ''
    fake.requests.push(`${req.method ?? ''} ${path}`)
    if (path === '/connect/token') {
      fake.tokensIssued++
      json(res, 200, { token_type: 'Bearer', expires_in: 3600, access_token: `token-${fake.tokensIssued}`, refresh_token: null })
      return
    }
    if (req.method === 'GET' && path === '/callcontrol') {
      const state = JSON.parse(JSON.stringify(fake.dns)) as DNInfo[] // the state when asked, answered when the gate opens
      if (fake.snapshotGate !== null) await fake.snapshotGate
      const failure = fake.failSnapshots.shift()
      json(res, failure ?? 200, failure === undefined ? state : { error: 'injected' })
      return
    }
    const m = /^\/callcontrol\/([^/]+)\/participants\/(\d+)$/.exec(path)
    if (req.method === 'GET' && m !== null) {
      const key = `${m[1]}/${m[2]}`
      const gate = fake.participantGate.get(key)
      if (gate !== undefined) await gate
      const p = fake.participant(m[1], Number(m[2]))
      const status = fake.participantStatus.get(key)
      if (status !== undefined) json(res, status, { error: 'injected' })
      else if (p === undefined) json(res, 404, { error: 'gone' })
      else json(res, 200, p)
      return
    }
    const answer = fake.postAnswers.get(path)
    if (req.method === 'POST' && answer !== undefined) {
      req.resume()
      json(res, answer.status, answer.body)
      return
    }
    json(res, 404, { error: 'unknown' })
  }
  const server = createServer((req, res) => { void handle(req, res) })
  const wss = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req, socket, head) => {
    fake.requests.push(`UPGRADE ${req.url ?? ''}`)
    const refuse = fake.refuseUpgrades.shift()
    if (refuse !== undefined) {
      socket.end(`HTTP/1.1 ${refuse} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      fake.sockets.add(ws)
      ws.on('close', () => fake.sockets.delete(ws))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.teardown(async () => { await fake.close() })
  return fake
}

/** A promise with its resolver, for gates. */
export function gate (): { promise: Promise<void>, open: () => void } {
  let open!: () => void
  const promise = new Promise<void>((resolve) => { open = resolve })
  return { promise, open }
}
