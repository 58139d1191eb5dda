// Which PBX the state in DATA_DIR came from. Calls in progress, the unseen-calls counter and pending
// recordings are only meaningful on the PBX that numbered them: against another PBX (or one whose
// call counter began again) a resumed call or a waiting recording would be matched with a new call
// that reuses its id, and one customer's recording announced as another's. So at start the gateway
// reads the PBX's identity (FQDN + SHA-256 of its license key, XAPI SystemStatus) and compares it
// with the one stored; on a different PBX it discards that state, but KEEPS the outbox: webhooks not
// yet delivered are still sent. A PBX that cannot be read within 5 s leaves the state as it is.
import { createHash } from 'node:crypto'
import type { XapiApi } from './pbx/pbx-api.js'
import type { LastCallSeen } from './pbx/call-log-query.js'

export interface PbxIdentity {
  fqdn: string
  /** SHA-256 (hex) of the license key: the key itself is never stored or logged. */
  licenseSha256: string
}

/** What the store discarded, for the log line. */
export interface DiscardedState { calls: number, unseenCalls: number, recordings: number }

/** The port: where the identity is kept, and the state tied to it (adapter: store/sqlite-state-origin.ts). */
export interface StateOriginStore {
  load(): Promise<PbxIdentity | null>
  /** Synchronous on SQLite, a promise on PostgreSQL (awaited either way). */
  save(identity: PbxIdentity): void | Promise<void>
  /** Deletes the calls in progress, the unseen-calls bookkeeping and pending recordings; never the outbox. */
  discardPbxState(): DiscardedState | Promise<DiscardedState>
}

export type OriginVerdict = 'first' | 'same' | 'different' | 'unknown'

export interface StateOriginOptions {
  store: StateOriginStore
  /** The PBX's identity now. */
  readIdentity: () => Promise<PbxIdentity>
  /** The last call the stored state saw (null: none). */
  lastCall: () => Promise<LastCallSeen | null>
  /** Whether the PBX's call counter went backwards since that call (the call log shows it). */
  counterWentBack: (last: LastCallSeen) => Promise<boolean>
  /** How long to wait for the PBX (ms; default 5000). */
  timeoutMs?: number
  log: { info: (obj: unknown, msg?: string) => void, warn: (obj: unknown, msg?: string) => void }
}

export function pbxIdentityOf (status: { FQDN?: unknown, LicenseKey?: unknown }): PbxIdentity {
  const key = typeof status.LicenseKey === 'string' ? status.LicenseKey : ''
  return { fqdn: typeof status.FQDN === 'string' ? status.FQDN : '', licenseSha256: createHash('sha256').update(key).digest('hex') }
}

/** Reads the identity from XAPI `SystemStatus`. */
export async function readPbxIdentity (xapi: Pick<XapiApi, 'get'>, timeoutMs = 5000): Promise<PbxIdentity> {
  return pbxIdentityOf(await xapi.get<{ FQDN?: unknown, LicenseKey?: unknown }>('SystemStatus', { timeoutMs, query: { select: ['FQDN', 'LicenseKey'] } }))
}

/** Why the state is not this PBX's, in words (null: it is). */
export function originChange (saved: PbxIdentity, now: PbxIdentity, counterWentBack: boolean): string | null {
  if (saved.fqdn !== now.fqdn) return `the PBX was ${saved.fqdn || '(no FQDN)'} and is now ${now.fqdn || '(no FQDN)'}`
  if (saved.licenseSha256 !== now.licenseSha256) return `the PBX ${now.fqdn} has another license key`
  if (counterWentBack) return `the call counter of ${now.fqdn} began again (a call logged since has an older id)`
  return null
}

async function within<T> (ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`no answer within ${ms / 1000} s`)) }, ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Compares the stored identity with the PBX's and discards the state of another PBX (see above). */
export async function checkStateOrigin (o: StateOriginOptions): Promise<OriginVerdict> {
  const saved = await o.store.load()
  let found: { now: PbxIdentity, wentBack: boolean }
  try {
    found = await within(o.timeoutMs ?? 5000, (async () => {
      const now = await o.readIdentity()
      // The counter is asked about only when the identity alone says "same PBX".
      const last = saved !== null && originChange(saved, now, false) === null ? await o.lastCall() : null
      return { now, wentBack: last !== null && await o.counterWentBack(last) }
    })())
  } catch (err) {
    o.log.warn({ err: err instanceof Error ? err.message : String(err) }, `could not read which PBX this is at start (${err instanceof Error ? err.message : String(err)}); the state in DATA_DIR is kept as it is`)
    return 'unknown'
  }
  const { now, wentBack } = found
  if (saved === null) {
    await o.store.save(now)
    return 'first'
  }
  const change = originChange(saved, now, wentBack)
  if (change === null) return 'same'
  const gone = await o.store.discardPbxState()
  await o.store.save(now)
  o.log.warn({ fqdn: now.fqdn, was: saved.fqdn, ...gone }, `the state in DATA_DIR came from another PBX (${change}): discarded ${gone.calls} calls in progress, ${gone.unseenCalls} unseen calls and ${gone.recordings} pending recordings; undelivered webhooks are kept and still sent`)
  return 'different'
}

/**
 * The same rule while the gateway runs (origin-watch.ts saw the call counter begin again): what the
 * model holds in memory (`forgetInMemory`, returning the calls it dropped) and the stored state of
 * the earlier PBX run go; the outbox stays. One warning line.
 */
export async function discardEarlierRun (o: { store: StateOriginStore, forgetInMemory: () => number, log: StateOriginOptions['log'] }, why: string): Promise<DiscardedState> {
  const inMemory = o.forgetInMemory()
  const gone = await o.store.discardPbxState()
  const calls = Math.max(inMemory, gone.calls)
  o.log.warn({ ...gone, calls }, `the PBX's state changed while the gateway ran (${why}): discarded ${calls} calls in progress, ${gone.unseenCalls} unseen calls and ${gone.recordings} pending recordings of its earlier run; undelivered webhooks are kept and still sent`)
  return { ...gone, calls }
}
