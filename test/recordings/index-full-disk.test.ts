// The recordings index on a full disk (issue 15 item 2, "same class": every writer of gateway.db):
// a call-ended event whose leg cannot be written to the index must not throw into the call model
// (which would stop the event's other consumers); the failed write is reported to storage health
// (/readyz, the log, /metrics), and the index works again once space returns; the leg that failed is
// kept and written then (on PostgreSQL the same holds while the database is away).
import t from 'tap'
import type { CallEvent } from '../../src/calls/call-events.js'
import type { SqliteRecordingIndex } from '../../src/store/sqlite-recording-index.js'
import { fillDisk, freeDisk } from '../store/full-disk.js'
import { startPipeline } from './pipeline-harness.js'

function ended (callid: number): CallEvent {
  const id = `261206093000_${callid}-1`
  return {
    type: 'ended',
    chain: `261206093000_${callid}`,
    user: '101',
    did: '',
    participants: [callid],
    payload: {
      event: 'incoming', callerid: '+15557654321', user: '101', did: '', finishtype: 'Ok', transfer: 'false', title: 't',
      duration: 5, id, chid: `261206093000_${callid}`, timestamp: new Date().toISOString()
    }
  } as unknown as CallEvent
}

t.test('a leg that cannot be written to the recordings index: no throw, the failure reported, written again later', async (t) => {
  const p = await startPipeline(t, { source: 'xapi' })
  const index = p.service.index as SqliteRecordingIndex
  const health = index.health
  fillDisk(index.db)
  let callid = 5000
  while ((health.failures.get('recordings index') ?? 0) === 0 && callid < 8000) {
    p.service.onCallEvent(ended(callid)) // before the fix: SQLITE_FULL thrown into the call model's sink
    callid++
  }
  t.ok((health.failures.get('recordings index') ?? 0) >= 1, `a write failed and was reported (after ${callid - 5000} legs)`)
  t.match(health.problem?.error ?? '', /SQLITE_FULL/)
  freeDisk(index.db)
  p.service.onCallEvent(ended(9000))
  t.equal(index.legsIn('waiting').filter((l) => l.callid === 9000).length, 1, 'written once space returns')
  await p.service.kick()
  // Written, in whatever state the pass left it (a loaded run's pass had already settled it as unrecorded).
  t.ok(index.leg(`261206093000_${callid - 1}-1/101`) !== undefined, 'the leg that failed is written on the next pass, not lost')
})
