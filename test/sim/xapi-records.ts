// Call records for the XAPI tests: synthetic history plus one recorded call whose WAV file really
// exists under the simulator's recordings folder.
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { SimCallRecord } from '../../src/sim/sim-types.js'
import { syntheticCallRecords } from '../../src/sim/xapi/synthetic-records.js'
import { wavBytes } from './xapi-fixture.js'

export const DAY = '2025-03-10'

/** Ten queue calls on 2025-03-10 from 09:00, one a minute; the 10th is abandoned. */
export function tenQueueCalls (): SimCallRecord[] {
  return syntheticCallRecords(10, { from: new Date(`${DAY}T09:00:00Z`) })
}

/** One answered inbound call to 102 recorded in two files; writes the files under `recordingsDir`. */
export async function recordedCall (recordingsDir: string): Promise<SimCallRecord> {
  const [record] = syntheticCallRecords(1, { from: new Date(`${DAY}T12:00:00Z`), firstCallId: 777, agents: ['102'], abandonEvery: 0 })
  const talk = record.segments[2]
  await mkdir(path.join(recordingsDir, '102'), { recursive: true })
  for (const [i, id] of [501, 502].entries()) {
    const relativePath = `102/[Agent 102]_102-+15557000000_20250310120005(777)${i === 0 ? '' : `_${i + 1}`}.wav`
    const filePath = path.join(recordingsDir, relativePath)
    await writeFile(filePath, wavBytes(200))
    record.recordings.push({
      Id: id,
      callid: record.callid,
      filePath,
      relativePath,
      StartTime: talk.startedAt,
      EndTime: talk.endedAt,
      CallType: 'InboundExternal',
      from: talk.src,
      to: talk.dst,
      dn: '102',
      segmentIndex: i + 1,
      refParticipantId: talk.dst.participantId
    })
    talk.recordingIds.push(id)
  }
  return record
}
