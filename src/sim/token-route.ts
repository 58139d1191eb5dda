// POST /connect/token: client credentials as form-urlencoded (3CX docs) or multipart (3CX samples).
import type { FastifyInstance } from 'fastify'
import type { SimContext } from './sim-context.js'

export function parseMultipart (body: string, contentType: string): Record<string, string> {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType)
  if (m === null) return {}
  const boundary = `--${m[1] ?? m[2]}`
  const out: Record<string, string> = {}
  for (const part of body.split(boundary)) {
    const idx = part.indexOf('\r\n\r\n')
    if (idx < 0) continue
    const head = part.slice(0, idx)
    const name = /name="([^"]*)"/i.exec(head)
    if (name === null) continue
    out[name[1]] = part.slice(idx + 4).replace(/\r\n$/, '')
  }
  return out
}

export async function tokenRoute (app: FastifyInstance, opts: { ctx: SimContext }): Promise<void> {
  const { ctx } = opts
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16_384 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 16_384 }, (req, body, done) => {
    done(null, parseMultipart(body as string, req.headers['content-type'] ?? ''))
  })

  app.post('/connect/token', async (req, reply) => {
    const form = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>
    const str = (k: string): string => (typeof form[k] === 'string' ? form[k] : '')
    if (str('grant_type') !== 'client_credentials') {
      return await reply.code(400).send({ error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' })
    }
    const token = ctx.auth.issue(str('client_id'), str('client_secret'))
    if (token === null) return await reply.code(401).send({ error: 'invalid_client', error_description: 'Invalid client credentials' })
    return token
  })
}
