// `recordings.list.get` joins XAPI's Recordings with the gateway's own MP3 index: each row gets the
// link of the MP3 made from it (`Mp3Url`, null when there is none yet).
import type { ReportRow } from './report-rows.js'

/** The MP3 link of an XAPI recording id, or null when the gateway has not converted it. */
export type Mp3LinkLookup = (recordingId: number) => string | null | Promise<string | null>

export async function * withMp3Links (rows: AsyncIterable<ReportRow>, lookup: Mp3LinkLookup): AsyncGenerator<ReportRow> {
  for await (const row of rows) {
    yield { ...row, Mp3Url: typeof row.Id === 'number' ? await lookup(row.Id) : null }
  }
}
