// Call history and reports (legacy-api.md §3.6): `calls.history.get`, `report.calllog.get`,
// `report.abandoned.get`, `report.queueperf.get`, `recordings.list.get`, each at `/{method}` (key in
// `?key=` or X-API-Key) and `/webapi/{key}/{method}`, with a read key. Rows stream from the PBX
// straight into JSON, CSV or XLSX; the first page is fetched before the headers go out, so a PBX
// refusal still gets a proper JSON error. Auth and errors come from the auth and error-handler plugins.
import { PassThrough } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify'
import { requireScope } from '../src/plugins/app/auth.js'
import { badParameter, LegacyError } from '../src/legacy/legacy-error.js'
import { PbxError } from '../src/pbx/pbx-api.js'
import { openReport } from '../src/reports/report-fetch.js'
import { contentDisposition, reportFileName } from '../src/reports/report-file-name.js'
import { ReportInputError } from '../src/reports/report-input-error.js'
import { REPORTS, type ReportDefinition } from '../src/reports/report-kinds.js'
import { parseReportParams, type ReportParamsInput } from '../src/reports/report-params.js'
import { withMp3Links, type Mp3LinkLookup } from '../src/reports/mp3-links.js'
import { CONTENT_TYPES, writeReport } from '../src/reports/report-writers.js'
import { reportQuerystring, reportResponses } from '../src/reports/report-schemas.js'
import { API_KEY_SECURITY, errorResponses, webapiKeyForm } from '../src/schemas/shared.js'

export interface ReportRoutesOptions {
  /**
   * The gateway's MP3 link for an XAPI recording id (the recordings service's index), added to
   * `recordings.list.get` rows as `Mp3Url`. Default: `app.gateway.mp3Link` when a service put one
   * there (read per request). Without either the column stays empty.
   */
  mp3Link?: Mp3LinkLookup
}

function mp3LinkOf (app: FastifyInstance, opts: ReportRoutesOptions): Mp3LinkLookup | undefined {
  if (opts.mp3Link !== undefined) return opts.mp3Link
  return app.gateway.mp3Link
}

/** The PBX's refusal in the words of legacy-api.md §2: history and reports need a System Owner client. */
function explainPbxError (err: unknown, def: ReportDefinition): unknown {
  if (err instanceof PbxError && err.code === 'PBX_FORBIDDEN') {
    return new LegacyError(502, 'PBX_FORBIDDEN', `The PBX refused the ${def.title} (403): the API client must have the System Owner role (Admin > Integrations > API on the PBX)`)
  }
  return err
}

export default async function reportRoutes (app: FastifyInstance, opts: ReportRoutesOptions = {}): Promise<void> {
  const { config } = app.gateway
  const readKey = requireScope('read')

  for (const def of Object.values(REPORTS)) {
    const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      let parsed
      try {
        parsed = parseReportParams(def, req.query as ReportParamsInput, config.pbx.timezone, config.reports.maxSpanDays)
      } catch (err) {
        if (err instanceof ReportInputError) throw badParameter(err.param, err.problem)
        throw err
      }
      // The parser is stricter than the schema and words its errors better; this is a backstop.
      if (req.validationError !== undefined) throw req.validationError

      const abort = new AbortController()
      reply.raw.on('close', () => { if (!reply.raw.writableFinished) abort.abort() })
      let rows
      try {
        rows = await openReport(app.gateway.xapi, parsed.request, { ...config.reports, signal: abort.signal })
      } catch (err) {
        throw explainPbxError(err, def)
      }
      const mp3Link = def.kind === 'recordings' ? mp3LinkOf(app, opts) : undefined
      if (mp3Link !== undefined) rows = withMp3Links(rows, mp3Link)

      const fileName = reportFileName(parsed.request, parsed.format, config.pbx.timezone)
      const body = new PassThrough()
      writeReport(def, rows, parsed.format, body).then((count) => {
        req.log.info({ report: def.kind, format: parsed.format, rows: count }, 'report streamed')
      }, (err: unknown) => {
        // Headers are gone: all that is left is to cut the response short, which clients notice.
        req.log.warn({ report: def.kind, errName: (err as Error)?.name, errMessage: (err as Error)?.message }, 'report stream failed')
        body.destroy(err as Error)
      })
      return await reply
        .type(CONTENT_TYPES[parsed.format])
        .header('content-disposition', parsed.format === 'json' ? contentDisposition(fileName).replace('attachment', 'inline') : contentDisposition(fileName))
        .header('cache-control', 'no-store')
        .send(body)
    }

    const schema: FastifySchema & Record<string, unknown> = {
      summary: def.title,
      description: describe(def),
      tags: ['reports'],
      querystring: reportQuerystring(def),
      response: reportResponses(def, {
        400: errorResponses[400],
        401: errorResponses[401],
        429: errorResponses[429],
        502: errorResponses[502],
        503: errorResponses[503],
        504: errorResponses[504]
      }),
      security: API_KEY_SECURITY
    }
    app.get(`/${def.method}`, { schema, onRequest: readKey, attachValidation: true }, handler)
    app.get(`/webapi/:key/${def.method}`, { schema: webapiKeyForm(schema), onRequest: readKey, attachValidation: true }, handler)
  }
}

function describe (def: ReportDefinition): string {
  return [
    `Rows of the ${def.title}, with XAPI's field names; times are ISO-8601 UTC and every duration also comes in seconds (\`…Seconds\`).`,
    '`from`/`to` are dates (whole days, `to` included) or date-times, in the gateway\'s PBX_TIMEZONE unless they carry an offset.',
    'Long ranges are read from the PBX in chunks of REPORT_MAX_RANGE_DAYS; without `top` every page is fetched and streamed.',
    'JSON is `{"rows":[…],"count":n}`; CSV is RFC 4180 with a header row; XLSX has one sheet with typed columns.',
    `Also at \`/webapi/{key}/${def.method}\`. Needs a read key; the PBX's API client must have the System Owner role.`
  ].join('\n\n')
}
