// The fault scenarios, each under random traffic, in two sizes: `ci` (the whole set in about three
// minutes on two cores, test/faults/*.test.ts) and `long` (npm run test:faults → bench/faults-report.md).
import { randomBytes } from 'node:crypto'
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { FaultRig, KEY_FORMS, sleep, type ScenarioResult } from './fault-rig.js'
import { seededRandom } from '../../../src/sim/engine/seeded-random.js'
import { callToneHz } from '../../../src/sim/wav.js'
import { parseLegacyCallId } from '../../../src/calls/legacy-call-id.js'
import type { Finding } from './ground-truth.js'

export type Scale = 'ci' | 'long'

export interface Scenario {
  name: string
  /** What the scenario does, for the report. */
  summary: (scale: Scale) => string
  run: (scale: Scale) => Promise<ScenarioResult>
}

const RATE = 10
/**
 * SIGKILLs in the kill scenario: 3 in CI, each one a restart on the same DATA_DIR with its blind window
 * (every kill after the first proves the same again, at ~1.6 s of CPU for the spare process and ~5 s);
 * the long form keeps 5.
 */
const killsAt = (s: Scale): number => s === 'ci' ? 3 : 5

/**
 * Runs `body` on a fresh rig, then the ground-truth check; `check` then asserts what the scenario
 * claims beyond it (rig.claim), once everything has settled.
 */
async function withRig (name: string, env: Record<string, string>, body: (rig: FaultRig) => Promise<void>, drainMs?: number, check?: (rig: FaultRig, result: ScenarioResult) => Promise<void>): Promise<ScenarioResult> {
  const rig = new FaultRig(name, env)
  try {
    await rig.start()
    await body(rig)
    const result = await rig.finish({ drainMs })
    if (check !== undefined) {
      await check(rig, result)
      result.claims = [...rig.claims]
    }
    return result
  } finally {
    await rig.close()
  }
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'gateway SIGKILL and restart',
    summary: (s) => `${RATE} calls/s; the gateway killed with SIGKILL ${killsAt(s)} times, each after ${s === 'ci' ? '2–3.5' : '6–24'} s of seeing the PBX, restarted on the same DATA_DIR after ${s === 'ci' ? '0.2–1' : '0.5–3'} s (its code loaded meanwhile, as from a warm disk cache); traffic ends ${s === 'ci' ? 3 : 15} s after the last restart`,
    run: async (scale) => await withRig('sigkill', {}, async (rig) => {
      const ci = scale === 'ci'
      const random = seededRandom(11)
      // A restarted gateway fetches every call of its snapshot at once: on a loaded machine it lags
      // behind the PBX for a while after the window, and a leg shorter than that lag is never seen.
      rig.marginMs = 1000
      // Traffic runs until stopped: every kill comes after a stretch in which the gateway saw the PBX,
      // however long a loaded machine takes to restart it, so calls outside the blind windows are checked in full.
      await rig.traffic({ callsPerSecond: RATE, seconds: ci ? 120 : 900, seed: 11 })
      await rig.until('the gateway to see the PBX', 20_000, async () => await rig.websocketUp())
      for (let i = 0; i < killsAt(scale); i++) {
        rig.prepareSpares()
        await sleep(ci ? 2000 + Math.round(1500 * random()) : 6000 + Math.round(18_000 * random()))
        await rig.killAndRestart(ci ? 200 + Math.round(800 * random()) : 500 + Math.round(2500 * random()))
      }
      await sleep(ci ? 3000 : 15_000)
      await rig.stopTraffic()
    }, undefined, async (rig) => {
      rig.claim(`the gateway was killed with SIGKILL and restarted ${killsAt(scale)} times`, rig.restarts === killsAt(scale), `${rig.restarts} restarts`)
    })
  },
  {
    name: 'WebSocket drops, PBX down, tokens revoked',
    summary: (s) => `${RATE} calls/s for ${s === 'ci' ? 14 : 90} s; every ${s === 'ci' ? 2.5 : 5} s (at least three times, none in the last ${s === 'ci' ? 4 : 2} s) the WebSocket dropped or (every third time) the tokens revoked; the second time, the PBX down for ${s === 'ci' ? 2 : 30} s instead`,
    run: async (scale) => {
      const moves = { drops: 0, revokes: 0, downs: 0 }
      // The key in every encoded form, with the PBX up and down, at LOG_LEVEL=info (every request logged).
      const probes: { up: number[], down: number[] } = { up: [], down: [] }
      return await withRig('pbx-faults', { LOG_LEVEL: 'info' }, async (rig) => {
      const seconds = scale === 'ci' ? 14 : 90
      const every = scale === 'ci' ? 2500 : 5000
      await rig.traffic({ callsPerSecond: RATE, seconds, seed: 12 })
      probes.up = await rig.probeKeyForms()
      // The last seconds without faults: calls no gap touched are checked in full.
      const end = Date.now() + seconds * 1000 - (scale === 'ci' ? 4000 : 2000)
      let round = 0
      // At least three rounds: a drop, the outage, a revocation.
      while (round < 3 || Date.now() < end) {
        await sleep(every)
        round++
        if (round === 2) {
          moves.downs++
          await rig.gap(async () => {
            await rig.faults({ down: true })
            const t0 = Date.now()
            probes.down = await rig.probeKeyForms()
            await sleep(Math.max(0, (scale === 'ci' ? 2000 : 30_000) - (Date.now() - t0)))
            await rig.faults({ down: false })
          })
        } else if (round % 3 === 0) {
          moves.revokes++
          await rig.gap(async () => { await rig.faults({ revokeTokens: true }) })
        } else {
          moves.drops++
          await rig.gap(async () => { await rig.faults({ dropWebSocket: true }) })
        }
      }
    }, 120_000, async (rig) => {
      const got = `${moves.drops} drops, ${moves.revokes} revocations, ${moves.downs} outage(s)`
      rig.claim('every fault was played: the WebSocket dropped, the tokens revoked, the PBX down once', moves.drops > 0 && moves.revokes > 0 && moves.downs === 1, got)
      // A drop and a revocation each close the WebSocket (the simulator drops it on revocation too).
      const reconnects = await rig.metric('gateway_ws_reconnects')
      rig.claim('the gateway reconnected its WebSocket after each drop and revocation', reconnects >= moves.drops + moves.revokes, `${reconnects} reconnects after ${got}`)
      const { lines, info, withKey } = rig.logScan
      const sent = probes.up.length === KEY_FORMS.length && probes.down.length === KEY_FORMS.length
      // The forms that authenticate are answered (200 up, a PBX error down), never 401: the key was read, and still not logged.
      const authenticated = [0, 1, 2, 3, 8].every((i) => probes.up[i] === 200 && probes.down[i] !== 401)
      rig.claim(`none of the ${KEY_FORMS.length} encoded key forms appears in any log line at info level, with the PBX up and down`,
        sent && authenticated && info > 0 && withKey.length === 0,
        `${withKey.length} of ${lines} log lines (${info} at info) carry the key${withKey.length > 0 ? `: ${withKey[0]}` : ''}; answers up ${probes.up.join(',')}, down ${probes.down.join(',')}`)
    })
    }
  },
  {
    name: 'XAPI 20% errors + 200 ms latency',
    summary: (s) => `${RATE} calls/s for ${s === 'ci' ? 8 : 90} s, 30% recorded; 20% of XAPI requests answered 500/503/504, 200 ms added to every PBX request`,
    run: async (scale) => await withRig('xapi-errors', {}, async (rig) => {
      const seconds = scale === 'ci' ? 8 : 90
      // Every participant fetch takes 200 ms more: a leg shorter than a few round trips may never be seen.
      rig.minObservableMs = 600
      await rig.faults({ xapiErrorRate: 0.2, latencyMs: 200 })
      await rig.traffic({ callsPerSecond: RATE, seconds, seed: 13, recordShare: 0.3 })
      await sleep(seconds * 1000)
      await rig.until('calls to end', 30_000, () => rig.sim.ctx.engine.activeCalls() === 0, 200)
      await rig.faults({})
    }, undefined, async (rig) => {
      let injected = 0
      for (const status of ['500', '503', '504']) injected += await rig.metricSum('gateway_pbx_request_duration_seconds_count', { api: 'xapi', status })
      rig.claim('the gateway met the injected XAPI errors (answers 500/503/504)', injected > 0, `${injected} XAPI answers 500/503/504`)
    })
  },
  {
    name: 'receiver down, slow, then 410',
    summary: (s) => `${RATE} calls/s for ${s === 'ci' ? 8 : 150} s; the receiver down for ${s === 'ci' ? 2.5 : 120} s, then slow (${s === 'ci' ? '1' : '5'} s per request) for ${s === 'ci' ? 2 : 30} s; after the drain and the check it answers 410 to 2 s more of calls and /readyz must name the disabled target`,
    run: async (scale) => await withRig('receiver-faults', { WEBHOOK_CONCURRENCY: '16' }, async (rig) => {
      const ci = scale === 'ci'
      await rig.traffic({ callsPerSecond: RATE, seconds: ci ? 8 : 150, seed: 14 })
      await sleep(1000)
      await rig.receiverDown()
      await sleep(ci ? 2500 : 120_000)
      rig.receiverMode = { kind: 'slow', delayMs: ci ? 1000 : 5000 }
      await rig.receiverUp()
      await sleep(ci ? 2000 : 30_000)
      rig.receiverMode = { kind: 'ok' }
    }, scale === 'ci' ? 60_000 : 600_000, async (rig) => {
      const failed = await rig.metricSum('gateway_webhook_attempts_total', { outcome: 'failed_attempt' })
      rig.claim('deliveries failed while the receiver was down (and were retried: nothing lost)', failed > 0, `${failed} failed attempts`)
      // 410 comes after the ground-truth check: once a target is gone, later events are (rightly) not delivered.
      let readyz = ''
      const named = await (async () => {
        rig.receiverMode = { kind: 'status', status: 410 }
        await rig.traffic({ callsPerSecond: RATE, seconds: 2, seed: 15 })
        // The body must name the disabled target (the rig's only one, webhook1), whatever the status.
        await rig.until('/readyz to name the disabled target', 20_000, async () => {
          readyz = JSON.stringify((await rig.readiness())?.checks ?? null)
          return namesDisabledTarget(readyz, 'webhook1')
        }, 100)
        // Degraded, not unready: the API stays in service with one receiver gone.
        const r = await rig.readiness()
        if (r?.checks?.webhooks?.ok !== true || !(r as { degraded?: string[] }).degraded?.includes('webhooks')) throw new Error(`a disabled target must make /readyz degraded, not unready: ${JSON.stringify(r)}`)
      })().then(() => true, (err: unknown) => { readyz += ` (${err instanceof Error ? err.message : String(err)})`; return false })
      rig.claim('a receiver answering 410 disables its target, and /readyz names it', named, `/readyz checks: ${readyz}`)
    })
  },
  {
    name: 'MP3_DIR unwritable (disk full)',
    summary: (s) => `${RATE} calls/s for ${s === 'ci' ? 6 : 60} s, 50% recorded; MP3_DIR points below a regular file, so every MP3 write fails (ENOTDIR) as on a full disk`,
    run: async (scale) => {
      const holder = path.join((await import('node:os')).tmpdir(), `gw-faults-notadir-${process.pid}`)
      mkdirSync(holder, { recursive: true })
      const blocker = path.join(holder, 'blocker')
      writeFileSync(blocker, 'a file where the MP3 directory should be\n')
      chmodSync(blocker, 0o444)
      try {
        return await withRig('disk-full', { MP3_DIR: path.join(blocker, 'mp3') }, async (rig) => {
          const seconds = scale === 'ci' ? 6 : 60
          await rig.traffic({ callsPerSecond: RATE, seconds, seed: 16, recordShare: 0.5 })
          await sleep(seconds * 1000)
        }, undefined, async (rig, result) => {
          // The gateway kept running and every call event was delivered: the ground-truth check. Here: the recordings failed.
          const recorded = rig.sim.ctx.engine.records().filter((r) => r.recordings.length > 0).length
          rig.claim('the simulator recorded calls', recorded > 0, `${recorded} recorded calls`)
          // Never lost: failed conversions stay pending and are tried again later (1 min … 1 h, then at the next start).
          await rig.until('recording conversions to fail', 30_000, async () => await rig.metricSum('gateway_recording_conversions_total', { outcome: 'retry' }) > 0, 200)
          const retried = await rig.metricSum('gateway_recording_conversions_total', { outcome: 'retry' })
          const converted = await rig.metricSum('gateway_recording_conversions_total', { outcome: 'ok' })
          const waiting = await rig.metric('gateway_recording_conversion_queue')
          rig.claim('every recording conversion failed and waits to be retried', retried > 0 && converted === 0 && waiting > 0, `${retried} retries scheduled, ${converted} converted, ${waiting} waiting`)
          const announced = rig.deliveries.filter((d) => (JSON.parse(d.body) as { event?: string }).event === 'recording').length
          rig.claim('no recording event was sent', announced === 0, `${announced} recording events`)
          const logged = result.errorLines.filter((l) => l.includes('recordings')).length
          rig.claim('the failures were logged as errors', logged > 0, `${logged} error lines about recordings`)
        })
      } finally {
        rmSync(holder, { recursive: true, force: true })
      }
    }
  },
  {
    name: 'DATA_DIR full',
    summary: (s) => `${RATE} calls/s for ${s === 'ci' ? 8 : 60} s; after ${s === 'ci' ? 2 : 3} s gateway.db cannot grow (SQLITE_FULL on every write that needs space) for ${s === 'ci' ? 2.5 : 30} s, then space returns`,
    run: async (scale) => await withRig('data-dir-full', {}, async (rig) => {
      const fullMs = scale === 'ci' ? 2500 : 30_000
      await rig.traffic({ callsPerSecond: RATE, seconds: scale === 'ci' ? 8 : 60, seed: 17 })
      await sleep(scale === 'ci' ? 2000 : 3000)
      await rig.diskFull(true)
      let detail = ''
      await rig.until('/readyz to report the full disk', 10_000, async () => {
        const r = await rig.readiness()
        detail = r?.checks?.outbox?.detail ?? ''
        return r?.ready === false && r.checks.outbox?.ok === false
      }, 200)
      if (!/gateway\.db.*SQLITE_FULL/.test(detail)) throw new Error(`/readyz must name gateway.db and SQLITE_FULL, said: ${detail}`)
      await sleep(fullMs)
      const held = await rig.metric('gateway_outbox_held_events')
      if (!(held > 0)) throw new Error(`events must wait in memory while the disk is full (gateway_outbox_held_events=${held})`)
      if (rig.gateway === null || rig.gateway.child.exitCode !== null) throw new Error('the gateway died on a full disk')
      await rig.diskFull(false)
      await rig.until('/readyz to be ready again once space returned', 15_000, async () => (await rig.readiness())?.checks?.outbox?.ok === true, 200)
      rig.claim('a full DATA_DIR: the gateway stays up, /readyz names it, events are held, readiness returns', true, `full for ${fullMs} ms: /readyz said "${detail}"; ${held} events held in memory, all written and delivered after`)
    }, 120_000)
  },
  {
    name: 'DATA_DIR corrupted',
    summary: () => `${RATE} calls/s for 4 s, drained, gateway stopped; 20 KB of random bytes written into the middle of gateway.db: the gateway must refuse to start naming the file; with the file moved aside it starts fresh and delivers 4 s more of calls`,
    run: async () => await withRig('data-dir-corrupt', {}, async (rig) => {
      await rig.traffic({ callsPerSecond: RATE, seconds: 4, seed: 18 })
      await rig.until('the traffic to end', 30_000, async () => !(await rig.trafficRunning()) && rig.sim.ctx.engine.activeCalls() === 0, 100)
      // The two processes started after the stop (refused, then fresh) load their code while the outbox drains.
      rig.prepareSpares(2)
      await rig.settled(30_000)
      await rig.stopGateway()
      const file = path.join(rig.dataDir, 'gateway.db')
      const size = statSync(file).size
      const fd = openSync(file, 'r+')
      writeSync(fd, randomBytes(20_000), 0, 20_000, Math.max(0, Math.floor(size / 2) - 10_000))
      closeSync(fd)
      const refusal = await rig.startGateway().then(() => null, (err: unknown) => String(err))
      if (refusal === null) throw new Error(`the gateway started on a damaged gateway.db (${size} bytes)`)
      if (!refusal.includes(file) || !/is damaged/.test(refusal)) throw new Error(`the refusal must name ${file} and say it is damaged: ${refusal.slice(0, 600)}`)
      renameSync(file, `${file}.damaged`)
      await rig.startGateway()
      await rig.traffic({ callsPerSecond: RATE, seconds: 4, seed: 19 })
      rig.claim('a damaged gateway.db is refused at start naming the file; moved aside, the gateway starts fresh', true, `refused: ${refusal.split('\n').find((l) => l.includes('is damaged'))?.slice(0, 300) ?? ''}`)
    })
  }
  ,
  {
    name: 'overlapping recorded calls on one extension',
    summary: (s) => `4 calls/s for ${s === 'ci' ? 12 : 60} s, 50% recorded (queue agents answer several calls at once), RECORDINGS_GIVE_UP_MS=${s === 'ci' ? 4000 : 15_000}; every announced MP3 is decoded and must play its own call's tone`,
    run: async (scale) => {
      const mismatches: Finding[] = []
      let checked = 0
      // Unrecorded legs are given up RECORDINGS_GIVE_UP_MS after they end (CI: 4 s; the simulator writes a file within 2 s).
      const giveUpMs = scale === 'ci' ? 4000 : 15_000
      const result = await withRig('recordings-overlap', { RECORDINGS_GIVE_UP_MS: String(giveUpMs) }, async (rig) => {
        const seconds = scale === 'ci' ? 12 : 60
        await rig.traffic({ callsPerSecond: 4, seconds, seed: 51, recordShare: 0.5, maxTalkMs: 6000 })
        await sleep(seconds * 1000)
        await rig.until('calls to end', 30_000, () => rig.sim.ctx.engine.activeCalls() === 0, 100)
        const ended = Date.now()
        // Recordings settle a few seconds after their leg (3 s without a new file); unrecorded legs are given up.
        await rig.until('every leg to be settled and converted', 60_000, async () => await rig.recordingsIdle(), 200)
        const idleMs = Date.now() - ended
        rig.claim(`the legs without a file were given up after RECORDINGS_GIVE_UP_MS (${giveUpMs} ms)`, idleMs < giveUpMs + 8000, `every leg settled ${idleMs} ms after the last call ended`)
        await rig.settled(60_000)
        const { firstToneHz } = await import('../../recordings/download.js')
        const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-faults-mp3-'))
        try {
          for (const r of rig.allReceived()) {
            const body = JSON.parse(r.body) as { event?: string, id?: string, chid?: string, FILES?: string[] }
            if (body.event !== 'recording') continue
            const callid = parseLegacyCallId(body.id ?? '')?.callid ?? -1
            for (const url of body.FILES ?? []) {
              // Links carry the configured PORT (0 here): fetch the same path from where the gateway listens.
              const res = await fetch(`${rig.gateway?.url ?? ''}${new URL(url).pathname}`)
              const file = path.join(dir, `${checked}.mp3`)
              writeFileSync(file, Buffer.from(await res.arrayBuffer()))
              const hz = await firstToneHz(file).catch(() => NaN)
              checked++
              if (!(Math.abs(hz - callToneHz(callid)) < 20)) mismatches.push({ chid: body.chid ?? '', callid, what: `recording ${url.slice(url.lastIndexOf('/') + 1)} plays ${hz.toFixed(0)} Hz, call ${callid}'s tone is ${callToneHz(callid)} Hz (another call's audio)` })
            }
          }
        } finally {
          rmSync(dir, { recursive: true, force: true })
        }
        rig.claim('every announced MP3 plays its own call\'s audio (at least 10 checked)', checked >= 10 && mismatches.length === 0, `${checked} announced MP3s decoded, ${mismatches.length} another call's; held legs: ${await rig.metric('gateway_recordings_held')}`)
      }, 90_000)
      result.report.wrong.push(...mismatches)
      if (checked < 10) result.report.wrong.push({ chid: '', callid: 0, what: `only ${checked} MP3s were announced and checked` })
      return result
    }
  }
]

/** Whether /readyz's checks (as JSON) name `target` as disabled, whether it counts as failing or as degraded. */
export function namesDisabledTarget (checksJson: string, target: string): boolean {
  // "webhook1 disabled (410 …)" or "disabled …: webhook1", within one detail string.
  return new RegExp(`disabled[^"]*\\b${target}\\b|\\b${target}\\b[^"]*disabled`, 'i').test(checksJson)
}

/** RSS of the gateway child, from its own /metrics (MB). */
async function rssMb (rig: FaultRig): Promise<number> {
  const r = await rig.api('/metrics').catch(() => null)
  const m = r === null ? null : /^gateway_process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)/m.exec(String(r.body))
  return m === null ? NaN : Math.round(Number(m[1]) / 1e5) / 10
}

export interface SoakSample {
  minute: number
  /** When the minute began (ms epoch): findings are counted against the fault of the minute their call started in. */
  from: number
  heapMb: number
  rssMb: number
  outboxDepth: number
  callsInProgress: number
  fault: string
}

/**
 * The soak (issue 9 §4, not part of CI): 20 calls/s for `minutes`, one fault every minute in turn,
 * sampling the gateway's memory and outbox depth after each; the ground-truth check at the end.
 */
export async function runSoak (minutes: number, samples: SoakSample[]): Promise<ScenarioResult> {
  const faults: Array<[string, (rig: FaultRig) => Promise<void>]> = [
    ['WebSocket dropped', async (rig) => { await rig.gap(async () => { await rig.faults({ dropWebSocket: true }) }) }],
    ['20% XAPI errors + 200 ms for 20 s', async (rig) => {
      const from = Date.now()
      await rig.faults({ xapiErrorRate: 0.2, latencyMs: 200 })
      await sleep(20_000)
      await rig.faults({})
      // As in the XAPI scenario: a leg gone within a few slowed round trips may never be seen.
      rig.minObservableMs = 600
      rig.slow = [...(rig.slow ?? []), { from, to: Date.now() + 1000 }]
    }],
    ['tokens revoked', async (rig) => { await rig.gap(async () => { await rig.faults({ revokeTokens: true }) }) }],
    ['receiver down 20 s', async (rig) => {
      await rig.receiverDown()
      await sleep(20_000)
      await rig.receiverUp()
    }],
    ['PBX down 10 s', async (rig) => {
      await rig.gap(async () => {
        await rig.faults({ down: true })
        await sleep(10_000)
        await rig.faults({ down: false })
      })
    }],
    ['gateway SIGKILL', async (rig) => { await rig.killAndRestart(1000) }]
  ]
  return await withRig('soak', {}, async (rig) => {
    await rig.traffic({ callsPerSecond: 20, seconds: minutes * 60, seed: 21 })
    const t0 = Date.now()
    for (let minute = 1; minute <= minutes; minute++) {
      const [name, fault] = faults[(minute - 1) % faults.length]
      await fault(rig)
      await sleep(Math.max(0, t0 + minute * 60_000 - Date.now()))
      const calls = await rig.api('/pbx.calls.get').then((r) => Number((r.body as { result?: number }).result ?? NaN), () => NaN)
      samples.push({ minute, from: t0 + (minute - 1) * 60_000, heapMb: await rig.heapMb(), rssMb: await rssMb(rig), outboxDepth: await rig.outboxDepth(), callsInProgress: calls, fault: name })
      process.stdout.write(`  soak minute ${minute}: ${JSON.stringify(samples.at(-1))}\n`)
    }
  }, 600_000)
}
