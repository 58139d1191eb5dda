// RECORDINGS_SOURCE=xapi: one `/Recordings` listing per look covers every waiting leg; each file is
// downloaded with `Pbx.DownloadRecording(recId=N)` (audio, whatever the spec says) before conversion.
import { createWriteStream } from 'node:fs'
import { mkdir, rename, unlink } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { compare, functionCall } from '../pbx/odata.js'
import { PbxError, type XapiApi } from '../pbx/pbx-api.js'
import type { RecordingRow } from './recording-index.js'
import { MATCH_SLACK_MS, matchXapiRows, xapiRef, type LegWindow, type XapiRecordingRow } from './recording-matcher.js'
import { PARTIAL_SUFFIX } from './ffmpeg-pool.js'
import { emptyLook, TransientSourceError, type LegLook, type LocalWav, type RecordingSource } from './recording-source.js'

const PAGE = 200
const MAX_PAGES = 20
const SELECT = ['Id', 'StartTime', 'EndTime', 'FromDn', 'ToDn', 'FromIdParticipant', 'ToIdParticipant', 'RefParticipantId']

/**
 * PBX answers worth trying again later (down, timed out, overloaded); the rest are final. A 500 to
 * DownloadRecording (PBX_BAD_VALUE) is among them: its only parameter is the id the PBX itself
 * listed, so the 500 is the PBX's own trouble, and giving up at once would lose the recording.
 */
const TRANSIENT: ReadonlySet<string> = new Set(['PBX_UNREACHABLE', 'PBX_TIMEOUT', 'PBX_ERROR', 'PBX_BAD_VALUE'])

export class XapiRecordingSource implements RecordingSource {
  readonly kind = 'xapi'

  constructor (private readonly xapi: XapiApi) {}

  async look (legs: readonly LegWindow[], claimed: (sourceRef: string) => boolean): Promise<Map<string, LegLook>> {
    const out = new Map<string, LegLook>(legs.map((l) => [l.legKey, emptyLook()]))
    if (legs.length === 0) return out
    const since = new Date(Math.min(...legs.map((l) => l.startedAt)) - MATCH_SLACK_MS)
    const rows: XapiRecordingRow[] = []
    for (let page = 0; page < MAX_PAGES; page++) {
      const { value } = await this.xapi.list<XapiRecordingRow>('Recordings', {
        query: { filter: compare('EndTime', 'ge', since), select: SELECT, orderby: ['Id asc'], top: PAGE, skip: page * PAGE }
      })
      rows.push(...value)
      if (value.length < PAGE) break
    }
    const { matched, unidentified } = matchXapiRows(rows, legs, claimed)
    for (const [legKey, list] of matched) {
      (out.get(legKey) as LegLook).files = list.map((r) => ({ sourceRef: xapiRef(r.Id), recordedAt: Date.parse(r.StartTime), wavPath: null, xapiId: r.Id }))
    }
    for (const [legKey, list] of unidentified) (out.get(legKey) as LegLook).unidentified = list.map((r) => xapiRef(r.Id))
    return out
  }

  async fetchWav (recording: RecordingRow, workDir: string): Promise<LocalWav> {
    if (recording.xapiId === null) throw new Error(`recording ${recording.fileName} has no XAPI id`)
    await mkdir(workDir, { recursive: true })
    const target = path.join(workDir, `${recording.xapiId}.wav`)
    const partial = `${target}${PARTIAL_SUFFIX}`
    try {
      const download = await this.xapi.download(`Recordings/${functionCall('Pbx.DownloadRecording', { recId: recording.xapiId })}`)
      await pipeline(download.body, createWriteStream(partial))
      await rename(partial, target)
      return { path: target, temporary: true }
    } catch (err) {
      await unlink(partial).catch(() => {})
      if (err instanceof PbxError && !TRANSIENT.has(err.code)) throw err
      throw new TransientSourceError(`download of recording ${recording.xapiId} failed: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}
