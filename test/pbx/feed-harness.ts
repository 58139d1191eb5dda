// The change feed's test harness: a fake reader whose answers the test holds and releases, a fake
// link, and fake time (used by callcontrol-feed.test.ts).
import { CallControlFeed } from '../../src/pbx/callcontrol-feed.js'
import type { CallControlReader } from '../../src/pbx/callcontrol-rest.js'
import type { CallParticipant, DNInfo, ParticipantChange } from '../../src/pbx/callcontrol-types.js'
import { PbxError } from '../../src/pbx/pbx-api.js'
import { FakeClock, settle } from '../fake-clock.js'

/** Answers from `dns`; a read waits for its gate (or rejects when its signal aborts). */
export class FakeReader implements CallControlReader {
  dns: DNInfo[] = [
    { dn: '101', type: 'Wextension', devices: [], participants: [] },
    { dn: '800', type: 'Wqueue', devices: [], participants: [] }
  ]

  /** Reads begun, as "snapshot" or "dn/id". */
  readonly reads: string[] = []
  snapshotGate: Promise<void> | null = null
  snapshotError: Error | null = null
  readonly participantGate = new Map<string, Promise<void>>()
  readonly participantError = new Map<string, Error>()
  /** Reads that do not stop when their signal aborts (a request already on the wire). */
  readonly deaf = new Set<string>()
  /** Answered instead of the participant in `dns`. */
  readonly participantAnswer = new Map<string, unknown>()

  async snapshot (signal?: AbortSignal): Promise<DNInfo[]> {
    this.reads.push('snapshot')
    const state = structuredClone(this.dns) // the state when asked, answered when the gate opens
    await held(this.snapshotGate, signal)
    if (this.snapshotError !== null) throw this.snapshotError
    return state
  }

  async participant (dn: string, id: number, signal?: AbortSignal): Promise<CallParticipant> {
    const key = `${dn}/${id}`
    this.reads.push(key)
    await held(this.participantGate.get(key) ?? null, this.deaf.has(key) ? undefined : signal)
    const error = this.participantError.get(key)
    if (error !== undefined) throw error
    if (this.participantAnswer.has(key)) return this.participantAnswer.get(key) as CallParticipant
    const p = this.dns.find((d) => d.dn === dn)?.participants.find((x) => x.id === id)
    if (p === undefined) throw new PbxError('PBX_NOT_FOUND', `no participant ${key}`, 404, 404)
    return structuredClone(p)
  }

  readsOf (key: string): number { return this.reads.filter((r) => r === key).length }
}

async function held (gate: Promise<void> | null, signal?: AbortSignal): Promise<void> {
  if (gate === null) return
  await new Promise<void>((resolve, reject) => {
    signal?.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
    void gate.then(resolve)
  })
}

export const msg = (type: unknown, dn: string, id: number | string): string =>
  JSON.stringify({ sequence: 1, event: { event_type: type, entity: `/callcontrol/${dn}/participants/${id}`, attached_data: null } })

export const kinds = (changes: ParticipantChange[]): string[] => changes.map((c) =>
  c.kind === 'resync' ? `resync:${c.dns.flatMap((d) => d.participants.map((p) => `${p.dn}#${p.id}`)).join(',')}` : c.kind === 'upsert' ? `+${c.participant.dn}#${c.participant.id} ${c.participant.status}` : `-${c.dn}#${c.id}`)

export interface Harness {
  feed: CallControlFeed
  reader: FakeReader
  clock: FakeClock
  link: { connected: boolean, drops: number, drop: () => void }
  changes: ParticipantChange[]
  logs: string[]
  synced: number
  /** A WebSocket message, then time for the feed to handle it. */
  send: (type: unknown, dn: string, id: number) => Promise<void>
}

/** A started feed on fake time; `open` (default) also opens the link and applies the first snapshot. */
export async function started (t: { teardown: (fn: () => unknown) => void }, open = true): Promise<Harness> {
  const clock = new FakeClock()
  const reader = new FakeReader()
  const link = { connected: true, drops: 0, drop () { this.drops++ } }
  const logs: string[] = []
  const log = (level: string) => (obj: object, text?: string): void => { logs.push(`${level} ${text ?? ''}`) }
  const h: Harness = {
    feed: undefined as unknown as CallControlFeed,
    reader,
    clock,
    link,
    changes: [],
    logs,
    synced: 0,
    send: async (type, dn, id) => { h.feed.message(msg(type, dn, id)); await settle() }
  }
  h.feed = new CallControlFeed({
    reader,
    link,
    clock,
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    catchUpAfterMs: 150,
    resyncDelayMs: 20,
    synced: () => { h.synced++ }
  })
  h.feed.onChange((c) => h.changes.push(c))
  h.feed.start()
  t.teardown(async () => { await h.feed.stop() })
  if (open) {
    h.feed.opened()
    await h.feed.ready()
  }
  return h
}
