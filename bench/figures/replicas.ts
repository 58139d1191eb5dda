// Replicas on PostgreSQL (DATABASE_URL), each figure on a throwaway database (skipped with a note
// when there is no server at PG_URL / 127.0.0.1:5432):
// - replicas-load: three gateway processes under simulator traffic; per replica the events it
//   delivered per second from the shared outbox and the calls in progress it answers (the holder
//   from its own call model, the standbys from the holder's published view);
// - takeover-time: the holder SIGKILLed during traffic; the time until another replica holds the
//   stream with its WebSocket up (it serves the live methods) and until the first event it derived
//   (a call that began after the kill) reaches the receiver.
import type { Figure, FigureResult } from '../figure.js'
import { withBenchDatabase } from '../pg-database.js'
import { startReplicas, type Replica, type ReplicaSet } from '../replicas.js'
import { mean, round, sleep, waitFor } from '../stats.js'

export const LOAD_TARGET = 'every replica delivers; every event delivered'
/**
 * The receiver of replicas-load answers each event after this long, like a slow CRM: with the default
 * 16 connections one replica delivers at most 16 events/s, less than the ~24/s the traffic makes, so
 * the holder falls behind and the standbys must take their share (pg-claimer.ts: a consumer claims
 * only below its low-water mark). With a fast receiver the holder keeps up and delivers nearly all.
 */
const SLOW_RECEIVER_MS = 1000
export const TAKEOVER_TARGET = 'serving ≤ 10 s after the kill (5 s lease + renewal)'

async function withReplicas<T> (name: string, count: number, url: string, fn: (set: ReplicaSet) => Promise<T>, receiverDelayMs = 0): Promise<T> {
  const set = await startReplicas(name, count, url, receiverDelayMs)
  try {
    return await fn(set)
  } finally {
    await set.stop()
  }
}

/** Delivered so far per replica (its one target). */
async function delivered (replicas: readonly Replica[]): Promise<number[]> {
  return await Promise.all(replicas.map(async (r) => (await r.stats()).delivery[0]?.delivered ?? 0))
}

export const replicasLoad: Figure = {
  id: 'replicas-load',
  title: 'Replicas on PostgreSQL: events/s and calls in progress per replica',
  run: async (opts) => await withBenchDatabase(replicasLoad, LOAD_TARGET, async (url) => await withReplicas('replicas-load', 3, url, async (set): Promise<FigureResult> => {
    const seconds = opts.quick ? 8 : 20
    const callsPerSecond = 10
    const holder = await set.holder(30_000)
    await set.traffic(callsPerSecond, seconds, 8000)
    const started = Date.now()
    const served = new Map<string, number[]>(set.replicas.map((r) => [r.name, []]))
    while (Date.now() - started < seconds * 1000) {
      for (const r of set.replicas) served.get(r.name)?.push(await r.callsServed())
      await sleep(500)
    }
    // Every call over and every event delivered: the receiver's count stops moving.
    let last = -1
    await waitFor('the shared outbox to drain', async () => {
      const now = (await set.receiver.call<{ received: number }>('count')).received
      const settled = now === last && (await set.replicas[0].callsServed()) === 0
      last = now
      return settled
    }, 120_000, 2000)
    const elapsedS = (Date.now() - started) / 1000
    const counts = await delivered(set.replicas)
    const received = (await set.receiver.call<{ received: number }>('count')).received
    const total = counts.reduce((a, b) => a + b, 0)
    const per = set.replicas.map((r, i) => {
      const calls = served.get(r.name) ?? []
      return { replica: r.name, role: r === holder ? 'holder' : 'standby', delivered: counts[i], eventsPerS: round(counts[i] / elapsedS, 1), callsMean: round(mean(calls), 1), callsMax: Math.max(...calls) }
    })
    const text = per.map((p) => `${p.replica} (${p.role}) ${p.eventsPerS} events/s, calls in progress mean ${p.callsMean} max ${p.callsMax}`).join('; ')
    opts.log(`  ${text}`)
    return {
      id: replicasLoad.id,
      title: replicasLoad.title,
      value: round(total / elapsedS, 1),
      unit: 'events/s (all replicas)',
      summary: `${callsPerSecond} calls/s for ${seconds} s, the receiver answering in ${SLOW_RECEIVER_MS} ms, ${total} events delivered in ${round(elapsedS, 1)} s: ${text}`,
      ceiling: null,
      comparison: 'the holder\'s own calls in progress against what each standby answers from its published view',
      ratio: null,
      target: { text: LOAD_TARGET, met: per.every((p) => p.delivered > 0) && received >= total },
      details: { seconds, callsPerSecond, receiverDelayMs: SLOW_RECEIVER_MS, elapsedS: round(elapsedS, 1), received, replicas: per },
      notes: ['Three gateway processes on one PostgreSQL database against the simulator: the holder derives the events, every replica claims call chains from the shared outbox and delivers them; events/s is each one\'s deliveries over the whole run (traffic, then the drain). The calls in progress are sampled every 500 ms from pbx.ac.get on each replica.', `The receiver answers each event after ${SLOW_RECEIVER_MS} ms (a slow CRM): one replica with the default 16 connections delivers at most 16 events/s, less than the traffic makes, so the holder falls behind; each replica claims call chains only while fewer than half a claim of chains are being sent by it (src/store/pg/pg-claimer.ts), so the standbys take the chains the holder leaves. With a fast receiver the holder keeps up and delivers nearly all (standbys 0 events/s at 10 calls/s, 2026-12-07).`]
    }
  }, SLOW_RECEIVER_MS))
}

export const takeoverTime: Figure = {
  id: 'takeover-time',
  title: 'Take-over time on PostgreSQL (holder SIGKILLed during calls)',
  run: async (opts) => await withBenchDatabase(takeoverTime, TAKEOVER_TARGET, async (url) => await withReplicas('takeover', takeoverRounds(opts.quick) + 1, url, async (set): Promise<FigureResult> => {
    const rounds = takeoverRounds(opts.quick)
    await set.holder(30_000)
    await set.traffic(5, rounds * 20 + 10, 4000)
    const serve: number[] = []
    const deliver: number[] = []
    let alive = [...set.replicas]
    for (let i = 0; i < rounds; i++) {
      const holder = await set.holder(30_000)
      await sleep(3000) // calls in progress when it dies
      const before = await set.receiver.call<Array<{ callid: number }>>('arrivals', { since: 0 })
      const highest = Math.max(-1, ...before.map((a) => a.callid))
      const killedAt = Date.now()
      process.kill(holder.child.pid, 'SIGKILL')
      alive = alive.filter((r) => r !== holder)
      const next = await waitForHolder(alive, 30_000)
      serve.push(Date.now() - killedAt)
      await waitFor('an event the new holder derived', async () => (await set.receiver.call<Array<{ at: number, callid: number }>>('arrivals', { since: killedAt })).some((a) => a.callid > highest), 30_000, 50)
      const first = (await set.receiver.call<Array<{ at: number, callid: number }>>('arrivals', { since: killedAt })).find((a) => a.callid > highest)
      deliver.push((first?.at ?? NaN) - killedAt)
      opts.log(`  round ${i + 1}: ${next.name} serving after ${serve[i]} ms, its first event delivered after ${deliver[i]} ms`)
    }
    const worst = Math.max(...serve)
    return {
      id: takeoverTime.id,
      title: takeoverTime.title,
      value: round(mean(serve)),
      unit: 'ms to serve',
      summary: `serving after ${serve.join(', ')} ms (mean ${round(mean(serve))}); first event it derived delivered after ${deliver.join(', ')} ms`,
      ceiling: null,
      comparison: 'SIGKILL of the holder to the standby holding the stream (readyz) and to its first delivered event',
      ratio: null,
      target: { text: TAKEOVER_TARGET, met: worst <= 10_000 },
      details: { rounds, serveMs: serve, deliverMs: deliver },
      notes: ['One replica more than rounds, under simulator traffic (5 calls/s); each round the holder is killed with SIGKILL, so its 5 s stream lease must run out before the standby takes it (renewed every 1 s). "Serving": /readyz of the new holder shows role holder with its Call Control WebSocket up; "delivered": the receiver got an event of a call that began after the kill.']
    }
  }))
}

async function waitForHolder (replicas: readonly Replica[], timeoutMs: number): Promise<Replica> {
  let found: Replica | null = null
  await waitFor('another replica to take the stream', async () => {
    for (const r of replicas) if (await r.holds()) found = r
    return found !== null
  }, timeoutMs, 20)
  return found as unknown as Replica
}

/** Holders killed in a run; one replica more is started, so each round has a standby to fail over to. */
function takeoverRounds (quick: boolean): number {
  return quick ? 1 : 3
}
