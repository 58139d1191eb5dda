// The recordings index's SQLite adapter: what the port promises beyond the pipeline's own tests.
import t from 'tap'
import { legKeyOf, type EndedLeg } from '../../src/recordings/recording-index.js'
import { SqliteRecordingIndex } from '../../src/store/sqlite-recording-index.js'
import { tempDir } from '../webhooks/helpers.js'

function open (t: { teardown: (fn: () => void) => void }): SqliteRecordingIndex {
  const index = SqliteRecordingIndex.open(tempDir(t))
  t.teardown(() => { index.close() })
  return index
}

function leg (n: number, endedAt: number): EndedLeg {
  return { callid: n, chid: `250101000000_${n}`, legacyId: `250101000000_${n}-1`, dn: '101', participantIds: [n], startedAt: endedAt - 60_000, endedAt }
}

t.test('latest(limit): converted recordings only, newest first, at most limit', async (t) => {
  const index = open(t)
  for (const [n, at, done] of [[1, 1000, true], [2, 3000, true], [3, 2000, true], [4, 4000, false]] as const) {
    const l = leg(n, at)
    index.addLeg(l, at)
    const [rec] = index.settleLeg(legKeyOf(l), [{ sourceRef: `dir:/r/${n}.wav`, recordedAt: at, wavPath: `/r/${n}.wav`, xapiId: null }])
    if (done) index.markConverted(rec.id, 10, at)
  }
  t.same(index.latest(10).map((r) => r.recordedAt), [3000, 2000, 1000], 'the pending one is not listed')
  t.same(index.latest(2).map((r) => r.recordedAt), [3000, 2000])
})

t.test('atomically: writes made inside commit or roll back together', async (t) => {
  const index = open(t)
  const l = leg(1, 1000)
  t.throws(() => index.atomically(() => {
    index.addLeg(l, 1000)
    throw new Error('after the write')
  }), /after the write/)
  t.equal(index.leg(legKeyOf(l)), undefined, 'rolled back')
  index.atomically(() => { index.addLeg(l, 1000) })
  t.equal(index.leg(legKeyOf(l))?.state, 'waiting')
})
