// MP3 recordings: `/recordings/<token>/<id>-<n>.mp3` (the link sent in `recording` events; the
// token is the credential) and the legacy `/webapi/<key>/recording/<id>-<n>.mp3` (needs a read key).
// The file served is the one the index names for that token, never a path taken from the URL, so
// nothing outside MP3_DIR is reachable; a tampered token or a traversal attempt is a plain 404.
// @fastify/static (send) does Range (206), ETag, conditional requests and `audio/mpeg`.
import { statSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import path from 'node:path'
import os from 'node:os'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fastifyStatic from '@fastify/static'
import { errorBody } from '../src/legacy/legacy-error.js'
import { requireScope } from '../src/plugins/app/auth.js'
import { FILE_NAME_PATTERN, TOKEN_PATTERN } from '../src/recordings/recording-links.js'
import type { RecordingIndex } from '../src/recordings/recording-index.js'
import { errorSchema } from '../src/schemas/shared.js'

/** What the routes need: where the MP3s are and the index (a RecordingService has both). */
export interface RecordingFiles {
  readonly mp3Dir: string
  readonly index: Pick<RecordingIndex, 'byToken' | 'byFileName'>
}

export interface RecordingRoutesOptions {
  /** Default: `app.gateway.recordings`. */
  files?: RecordingFiles
  /** Key check of the legacy path; default the auth plugin's read-scope check when it is registered. */
  legacyKeyCheck?: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
}

const audio = { description: 'The MP3 (audio/mpeg); 206 with a Range header', type: 'string', format: 'binary' }

const NOT_FOUND = errorBody('RECORDING_NOT_FOUND', 'No recording at this address: check the link (it may have expired)')

async function serve (reply: FastifyReply, files: RecordingFiles, fileName: string | undefined): Promise<FastifyReply> {
  if (fileName === undefined) return await reply.code(404).type('application/json; charset=utf-8').send(NOT_FOUND)
  // The index is shared by replicas, the folder may not be: the same 404, and a line naming the cause.
  if (!await stat(path.join(files.mp3Dir, fileName)).then((s) => s.isFile(), () => false)) {
    reply.log.error({ file: fileName, mp3Dir: files.mp3Dir }, 'recordings: the index has this recording but MP3_DIR has no such file (deleted by hand, or MP3_DIR is not the directory every replica shares)')
    return await reply.code(404).type('application/json; charset=utf-8').send(NOT_FOUND)
  }
  void reply.header('cache-control', 'private, max-age=86400')
  void reply.header('content-disposition', `inline; filename="${fileName}"`)
  return await reply.sendFile(fileName, files.mp3Dir, { dotfiles: 'deny', index: false, acceptRanges: true, etag: true, lastModified: true })
}

/**
 * @fastify/static refuses to register when its root exists but is not a directory (MP3_DIR below a
 * file, a broken mount): the gateway would not start, and call events would stop with it. Every
 * sendFile names MP3_DIR itself, so the plugin's default root is only checked, never served from.
 */
function staticRoot (app: FastifyInstance, mp3Dir: string): string {
  try {
    if (statSync(mp3Dir).isDirectory()) return mp3Dir
  } catch (err) {
    // Not there yet (a fresh data directory): the recording service creates it; the check needs
    // only some existing folder, and warning about a folder that is about to exist helps no one.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return os.tmpdir()
  }
  app.log.error({ mp3Dir }, `MP3_DIR ${mp3Dir} is not a usable directory: recordings cannot be stored or served until it is fixed`)
  return os.tmpdir()
}

export default async function recordingRoutes (app: FastifyInstance, opts: RecordingRoutesOptions): Promise<void> {
  const files = opts.files ?? app.gateway.recordings
  if (files === undefined) throw new Error('recording routes: no recordings service (pass `files` or decorate app.gateway.recordings)')
  if (!app.hasReplyDecorator('sendFile')) await app.register(fastifyStatic, { root: staticRoot(app, files.mp3Dir), serve: false })

  app.get('/recordings/:token/:file', {
    schema: {
      summary: 'Download a recording (the link of a `recording` event)',
      tags: ['recordings'],
      params: { type: 'object', properties: { token: { type: 'string' }, file: { type: 'string' } }, required: ['token', 'file'] },
      response: { 200: audio, 206: audio, 404: errorSchema }
    }
  }, async (req, reply) => {
    const { token, file } = req.params as { token: string, file: string }
    const known = TOKEN_PATTERN.test(token) && FILE_NAME_PATTERN.test(file) ? await files.index.byToken(token, file) : undefined
    return await serve(reply, files, known?.fileName)
  })

  const keyCheck = opts.legacyKeyCheck ?? (app.hasDecorator('apiKeys') ? requireScope('read') : undefined)
  if (keyCheck === undefined) {
    app.log.warn('recording routes: no API key check available; the legacy /webapi/{key}/recording/ path is not served')
    return
  }
  app.get('/webapi/:key/recording/:file', {
    schema: {
      summary: 'Download a recording by its file name (legacy path; needs a read key)',
      tags: ['recordings'],
      hide: true,
      params: { type: 'object', properties: { key: { type: 'string' }, file: { type: 'string' } }, required: ['key', 'file'] },
      response: { 200: audio, 206: audio, 401: errorSchema, 404: errorSchema }
    },
    preHandler: keyCheck
  }, async (req, reply) => {
    const { file } = req.params as { file: string }
    return await serve(reply, files, FILE_NAME_PATTERN.test(file) ? (await files.index.byFileName(file))?.fileName : undefined)
  })
}
