// Test harness for the simulator's Call Control side: a simulator with a token, small HTTP helpers,
// and a WebSocket watcher that does what a real client does (fetch every upserted entity).
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'
import WebSocket from 'ws'
import type { CallParticipant, WsEventMessage } from '../../src/pbx/callcontrol-types.js'
import type { SentCallControlEvent } from '../../src/sim/callcontrol/cc-events.js'
import { createSimulator, type Simulator } from '../../src/sim/simulator.js'
import { fetchToken } from './xapi-fixture.js'

export const CALLER = '+15557654321'

export interface HttpResult<T = any> { status: number, body: T }

export interface CcSim {
  sim: Simulator
  token: string
  get: <T = any>(path: string, token?: string) => Promise<HttpResult<T>>
  post: <T = any>(path: string, body?: unknown, token?: string) => Promise<HttpResult<T>>
  /** Starts a scripted call; fails the test unless it answers 201. */
  call: (script: Record<string, unknown>) => Promise<number>
  /** Waits until every given call has ended. */
  waitEnded: (callids: number[], timeoutMs?: number) => Promise<void>
  watch: (token?: string) => Promise<CcWatcher>
  /** The sent-event log for one call (duplicates left out). */
  eventsOf: (callid: number) => Promise<SentCallControlEvent[]>
}

async function parse (res: Response): Promise<HttpResult> {
  const text = await res.text()
  let body: unknown = text
  try { body = JSON.parse(text) } catch {}
  return { status: res.status, body }
}

export async function startCcSim (t: Test, opts: Parameters<typeof createSimulator>[0] = {}): Promise<CcSim> {
  // A recordings folder of its own, removed only once the simulator has closed (and so has stopped
  // writing into it). Not t.testdir(): tap removes that before teardowns run, racing late recordings.
  const ownDir = opts.recordingsDir === undefined ? await mkdtemp(path.join(os.tmpdir(), '3cx-cc-sim-rec-')) : undefined
  const sim = await createSimulator({ ...opts, recordingsDir: opts.recordingsDir ?? ownDir })
  const watchers: CcWatcher[] = []
  // Watchers first: one reading an upsert when the simulator closes would fail with ECONNREFUSED.
  t.teardown(async () => {
    for (const w of watchers) w.close()
    await sim.close()
    if (ownDir !== undefined) await rm(ownDir, { recursive: true, force: true })
  })
  const token = await fetchToken(sim.url)
  const headers = (tok: string): Record<string, string> => ({ authorization: `Bearer ${tok}` })
  const get = async (path: string, tok = token): Promise<HttpResult> => await parse(await fetch(sim.url + path, { headers: headers(tok) }))
  const post = async (path: string, body?: unknown, tok = token): Promise<HttpResult> => await parse(await fetch(sim.url + path, {
    method: 'POST',
    headers: body === undefined ? headers(tok) : { ...headers(tok), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  }))
  const cc: CcSim = {
    sim,
    token,
    get,
    post,
    async call (script) {
      const res = await post('/_sim/calls', script)
      if (res.status !== 201) throw new Error(`POST /_sim/calls ${res.status}: ${JSON.stringify(res.body)}`)
      return res.body.callid
    },
    async waitEnded (callids, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs
      for (const id of callids) {
        for (;;) {
          const res = await get(`/_sim/calls/${id}`)
          if (res.body.status === 'ended') break
          if (Date.now() > until) throw new Error(`call ${id} did not end in time (${res.body.status})`)
          await sleep(50)
        }
      }
    },
    async watch (tok = token) {
      const w = new CcWatcher(sim.url, tok)
      watchers.push(w)
      await w.opened
      return w
    },
    async eventsOf (callid) {
      const res = await get('/_sim/events')
      return (res.body.events as SentCallControlEvent[]).filter((e) => e.participant.callid === callid && !e.duplicate)
    }
  }
  return cc
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export interface Observed {
  message: WsEventMessage
  /** For upserts: the fetched entity, or 404. */
  fetched?: CallParticipant | 404
}

/** A WebSocket client that fetches each upserted entity in order, like the gateway does. */
export class CcWatcher {
  readonly ws: WebSocket
  readonly observed: Observed[] = []
  readonly opened: Promise<void>
  readonly closed: Promise<void>
  private fetching: Promise<void> = Promise.resolve()
  private closing = false

  constructor (private readonly url: string, private readonly token: string) {
    this.ws = new WebSocket(`${url.replace(/^http/, 'ws')}/callcontrol/ws`, { headers: { authorization: `Bearer ${token}` } })
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => { resolve() })
      this.ws.once('error', reject)
    })
    this.closed = new Promise((resolve) => { this.ws.once('close', () => { resolve() }) })
    this.ws.on('error', () => {})
    this.ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as WsEventMessage
      const entry: Observed = { message }
      this.observed.push(entry)
      if (message.event.event_type !== 0) return
      this.fetching = this.fetching.then(async () => {
        if (this.closing) return // the simulator may be closing too: nothing more to read
        const res = await fetch(this.url + message.event.entity, { headers: { authorization: `Bearer ${this.token}` } })
        entry.fetched = res.status === 404 ? 404 : await res.json() as CallParticipant
      })
      // A read failing is settled()'s to report; one still on its way at close (the simulator gone: ECONNREFUSED) is no unhandled rejection.
      this.fetching.catch(() => {})
    })
  }

  /** Resolves once all fetches so far are done. */
  async settled (): Promise<void> {
    await sleep(50)
    await this.fetching
  }

  close (): void {
    this.closing = true
    this.ws.terminate()
  }
}

/**
 * One event in the notation of docs/DEVELOPING.md: `+dn#pN Status party_dn/party_dn_type callerid
 * ["name"] [obo=…] [ref=…] [orig=…]` for an upsert, `-dn#pN` for a remove. Participant ids are
 * numbered per call in order of first appearance; the external caller shows as CALLER.
 */
export function notation (events: SentCallControlEvent[], caller = CALLER): string[] {
  const ids = new Map<number, number>()
  return events.map((e) => {
    const p = e.participant
    if (!ids.has(p.id)) ids.set(p.id, ids.size + 1)
    const head = `${e.event_type === 0 ? '+' : '-'}${p.dn}#p${ids.get(p.id) ?? 0}`
    if (e.event_type === 1) return head
    const cid = p.party_caller_id === caller ? 'CALLER' : p.party_caller_id
    const extra = [
      p.party_caller_name !== '' ? `"${p.party_caller_name}"` : '',
      p.on_behalf_of_dn !== '' ? `obo=${p.on_behalf_of_dn}/${p.on_behalf_of_type}` : '',
      p.referred_by_dn !== '' ? `ref=${p.referred_by_dn}/${p.referred_by_type}` : '',
      p.originated_by_dn !== '' ? `orig=${p.originated_by_dn}/${p.originated_by_type}` : ''
    ].filter((x) => x !== '')
    return [head, p.status, `${p.party_dn}/${p.party_dn_type}`, cid, ...extra].join(' ')
  })
}
