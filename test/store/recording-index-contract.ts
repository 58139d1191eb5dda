// What every recordings index adapter must do (SQLite and PostgreSQL), one table of cases run by
// test/store/sqlite-recording-index.test.ts and test/store/pg/pg-recording-index.test.ts. `open(consumer)`
// opens another view of the same store as one replica (consumer) sees it: two of them are two
// replicas on one database.
import type { Test } from 'tap'
import { legKeyOf, type EndedLeg, type FoundRecording, type RecordingIndex, type RecordingRow } from '../../src/recordings/recording-index.js'

export interface OpenRecordingIndex {
  open: (consumer: string) => Promise<RecordingIndex>
}

export function leg (n: number, endedAt: number, dn = '101'): EndedLeg {
  return { callid: n, chid: `250101000000_${n}`, legacyId: `250101000000_${n}-1`, dn, participantIds: [n], startedAt: endedAt - 60_000, endedAt }
}

const file = (ref: string, at: number): FoundRecording => ({ sourceRef: ref, recordedAt: at, wavPath: null, xapiId: Number(ref.replace(/\D/g, '')) })

/** A leg with one pending recording per ref. */
async function recorded (index: RecordingIndex, n: number, refs: string[], at = 1000): Promise<RecordingRow[]> {
  const l = leg(n, at)
  await index.addLeg(l, at)
  return await index.settleLeg(legKeyOf(l), refs.map((r) => file(r, at)))
}

const ids = (rows: readonly RecordingRow[]): number[] => rows.map((r) => r.id).sort((x, y) => x - y)

type Case = [name: string, run: (t: Test, a: RecordingIndex, b: RecordingIndex) => Promise<void>]

export const RECORDING_INDEX_CASES: readonly Case[] = [
  ['latest(limit): converted recordings only, newest first, at most limit', async (t, a) => {
    for (const [n, at, done] of [[1, 1000, true], [2, 3000, true], [3, 2000, true], [4, 4000, false]] as const) {
      const [rec] = await recorded(a, n, [`xapi:${n}`], at)
      if (done) await a.markConverted(rec.id, 10, at)
    }
    t.same((await a.latest(10)).map((r) => r.recordedAt), [3000, 2000, 1000], 'the pending one is not listed')
    t.same((await a.latest(2)).map((r) => r.recordedAt), [3000, 2000])
  }],
  ['addLeg: added, a replay, extended while waiting, late after settling', async (t, a) => {
    const l = leg(1, 1000)
    t.equal(await a.addLeg(l), 'added')
    t.equal(await a.addLeg(l), 'replay')
    t.equal(await a.addLeg({ ...l, participantIds: [1, 7], endedAt: 2000 }), 'extended')
    t.match(await a.leg(legKeyOf(l)), { participantIds: [1, 7], endedAt: 2000, state: 'waiting' })
    await a.settleLeg(legKeyOf(l), [])
    t.equal((await a.leg(legKeyOf(l)))?.state, 'unrecorded', 'settled without files')
    t.equal(await a.addLeg({ ...l, endedAt: 3000, participantIds: [9] }), 'late')
    t.equal((await a.legsIn('waiting')).length, 1, 'the late part waits on its own')
  }],
  ['settleLeg: a leg is settled once (by whichever replica comes first); a file belongs to one leg; numbering goes on', async (t, a, b) => {
    const rows = await recorded(a, 1, ['xapi:1', 'xapi:2'])
    t.same(rows.map((r) => [r.seq, r.fileName, r.state]), [[1, '250101000000_1-1-1.mp3', 'pending'], [2, '250101000000_1-1-2.mp3', 'pending']])
    t.not(rows[0].token, rows[1].token)
    t.same(await b.settleLeg(legKeyOf(leg(1, 1000)), [file('xapi:3', 1000)]), [], 'the other replica finds it settled')
    t.same([...await b.claimedRefs(0)].sort(), ['xapi:1', 'xapi:2'])
    t.same([...await b.claimedRefs(1001)], [], 'only refs recorded since')
    const other = leg(1, 5000, '102')
    await b.addLeg(other)
    const more = await b.settleLeg(legKeyOf(other), [file('xapi:2', 5000), file('xapi:4', 5000)])
    t.same(more.map((r) => [r.sourceRef, r.fileName]), [['xapi:4', '250101000000_1-1-3.mp3']], 'a claimed file is skipped; the legacy id counts on')
  }],
  ['settleLeg: a file dated by its mtime (a fraction of a millisecond) is taken', async (t, a) => {
    const l = leg(1, 1000)
    await a.addLeg(l)
    const [rec] = await a.settleLeg(legKeyOf(l), [{ ...file('dir:1', 0), recordedAt: 1234.5678 }])
    t.ok(Math.abs(rec.recordedAt - 1234.5678) < 1, `recorded at ${rec.recordedAt}`)
  }],
  ['claimPending: each pending recording goes to one replica; a claim that ran out (dead replica) is taken over', async (t, a, b) => {
    const rows = await recorded(a, 1, ['xapi:1', 'xapi:2', 'xapi:3'])
    const mine = await a.claimPending(2, 60_000)
    const theirs = await b.claimPending(10, 60_000)
    t.same([...ids(mine), ...ids(theirs)], ids(rows), 'disjoint, together all of them')
    t.equal(mine.length, 2, 'at most the limit')
    t.same(await a.claimPending(10, 60_000), [], 'nothing left while the claims hold')
    await b.renewClaims(ids(theirs), 0)
    t.same(ids(await a.claimPending(10, 60_000)), ids(theirs), 'a claim that ran out is taken over')
    await a.markConverted(mine[0].id, 10)
    await a.releaseClaims([mine[1].id])
    t.same(ids(await b.claimPending(10, 60_000)), [mine[1].id], 'a given-back claim is free at once; a converted one is not pending')
  }],
  ['releaseClaims: all of a replica\'s claims at shutdown; with a delay nobody takes them before it', async (t, a, b) => {
    const rows = await recorded(a, 1, ['xapi:1', 'xapi:2'])
    await a.claimPending(10, 60_000)
    await a.releaseClaims([rows[0].id], 60_000)
    t.same(await b.claimPending(10, 60_000), [], 'the delayed one waits; the other is still claimed')
    await a.releaseClaims()
    t.same(ids(await b.claimPending(10, 60_000)), ids(rows), 'a stopping replica gives back every claim')
    await a.releaseClaims()
    t.same(await a.claimPending(10, 60_000), [], 'a replica gives back only its own claims')
  }],
  ['announce: one replica enqueues the event and marks the leg, the others do nothing', async (t, a, b) => {
    const [rec] = await recorded(a, 1, ['xapi:1'])
    await a.markConverted(rec.id, 10)
    const sent: string[] = []
    const results = await Promise.all([a.announce(rec.legKey, () => { sent.push('a') }, 5000), b.announce(rec.legKey, () => { sent.push('b') }, 5000)])
    t.same(results.filter(Boolean).length, 1, 'one of them announced')
    t.equal(sent.length, 1, 'one event')
    t.match(await b.leg(rec.legKey), { state: 'announced' })
    t.same(await a.announce(rec.legKey, () => { sent.push('again') }), false, 'an announced leg is not announced again')
  }],
  ['retryFailed: a failed leg\'s recordings are pending again (once, whichever replica restarts); announced legs are left alone', async (t, a, b) => {
    const [failed] = await recorded(a, 1, ['xapi:1'])
    const [gone, done] = await recorded(a, 2, ['xapi:2', 'xapi:3'])
    await a.markFailed(failed.id, 'MP3_DIR is not a directory')
    await a.setLegState(failed.legKey, 'failed')
    await a.markFailed(gone.id, 'bad wav')
    await a.markConverted(done.id, 10)
    await a.announce(done.legKey, () => {})
    t.same(await Promise.all([a.retryFailed(), b.retryFailed()]).then((n) => n.sort()), [0, 1], 'one recording, made pending by one replica')
    t.match(await b.leg(failed.legKey), { state: 'converting' }, 'its leg waits for the conversion again')
    t.match((await b.recordingsOf(failed.legKey))[0], { state: 'pending' })
    t.match((await b.recordingsOf(done.legKey)).map((r) => r.state), ['failed', 'done'], 'an announced leg is not announced again')
    t.same(ids(await b.claimPending(10, 60_000)), [failed.id], 'claimable at once')
  }],
  ['byToken: token and name must match a converted recording; deleted once, then gone on every replica', async (t, a, b) => {
    const [rec, other] = await recorded(a, 1, ['xapi:1', 'xapi:2'])
    t.equal(await b.byToken(rec.token, rec.fileName), undefined, 'pending: not served')
    await a.markConverted(rec.id, 10)
    await a.markConverted(other.id, 10)
    t.match(await b.byToken(rec.token, rec.fileName), { id: rec.id, bytes: 10 }, 'a link made on one replica resolves on the other')
    t.equal(await b.byToken(other.token, rec.fileName), undefined, 'another recording\'s token')
    t.match(await b.byXapiId(1), { id: rec.id })
    t.match(await b.byFileName(rec.fileName), { id: rec.id })
    t.same(await Promise.all([a.deleteRecording(rec.id), b.deleteRecording(rec.id)]).then((r) => r.sort()), [false, true], 'deleted by one of them')
    t.equal(await a.byToken(rec.token, rec.fileName), undefined)
    t.equal(await b.byToken(rec.token, rec.fileName), undefined)
    t.same([...await b.fileNames()], [other.fileName])
  }],
  ['stats and the retention reads: counts by state, what was recorded before a cutoff, empty legs', async (t, a, b) => {
    const [r1] = await recorded(a, 1, ['xapi:1'], 1000)
    const [r2] = await recorded(a, 2, ['xapi:2'], 2000)
    await recorded(a, 3, ['xapi:3'], 3000)
    await a.markConverted(r1.id, 100)
    await a.markFailed(r2.id, 'bad wav')
    await a.announce(r1.legKey, () => {}, 1500)
    t.same((await b.recordedBefore(2500)).map((r) => [r.id, r.state, r.announcedAt]), [[r1.id, 'done', 1500], [r2.id, 'failed', null]], 'pending ones are not listed')
    const counts = 'refreshStats' in b ? await (b as unknown as { refreshStats: () => Promise<unknown> }).refreshStats() : b.stats()
    t.same(counts, { pending: 1, done: 1, failed: 1, bytes: 100, held: 0 })
    await a.deleteRecording(r1.id)
    t.equal(await b.deleteEmptyLegsBefore(2500), 1, 'the leg without recordings')
    t.equal(await b.leg(r1.legKey), undefined)
  }]
]

export function recordingIndexContract (t: Test, make: (t: Test) => Promise<OpenRecordingIndex>): void {
  for (const [name, run] of RECORDING_INDEX_CASES) {
    t.test(name, async (t) => {
      const s = await make(t)
      await run(t, await s.open('replica-a'), await s.open('replica-b'))
    })
  }
}
