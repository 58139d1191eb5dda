// One rule for repeated query parameters on every route (legacy-api.md §2): `?top=5&top=5` is
// refused with 400 DUPLICATE_PARAMETER naming the parameter, before any handler or schema sees an
// array where it expects one value. Refusing is safer than guessing which copy the caller meant.
import fp from 'fastify-plugin'
import type { FastifyError, preValidationHookHandler } from 'fastify'
import { LegacyError } from './legacy-error.js'

/**
 * The first parameter given more than once, with its count, or null. `num=101&num[]=102` counts as
 * `num` twice: PHP-style clients write lists as `name[]`, and taking `num` would drop what they meant.
 */
export function repeatedParameter (query: unknown): { name: string, count: number } | null {
  if (query === null || typeof query !== 'object') return null
  // for…in, not Object.entries: no arrays built on every request.
  for (const name in query) {
    const value: unknown = (query as Record<string, unknown>)[name]
    if (Array.isArray(value)) return { name, count: value.length }
    const open = name.indexOf('[')
    if (open > 0 && Object.hasOwn(query, name.slice(0, open))) return { name: name.slice(0, open), count: 2 }
  }
  return null
}

/** `what`: a query parameter, or a header such as X-API-Key (the same rule: refused, never guessed). */
export function duplicateParameterError (name: string, count: number, what: 'Parameter' | 'Header' = 'Parameter'): LegacyError {
  const shown = /^[A-Za-z0-9_.$-]{1,40}$/.test(name) ? name : name.slice(0, 40).replace(/[^\x20-\x7e]/g, '?')
  return new LegacyError(400, 'DUPLICATE_PARAMETER', `${what} "${shown}" is given ${count} times; give it once`)
}

// Callback style: an async hook costs a promise on every request.
const refuseRepeated: preValidationHookHandler = (req, _reply, done) => {
  const repeated = repeatedParameter(req.query)
  if (repeated === null) done()
  else done(duplicateParameterError(repeated.name, repeated.count) as unknown as FastifyError)
}

/** preValidation on every route: after authentication (onRequest), before schemas and handlers. */
export default fp(async (app) => {
  app.addHook('preValidation', refuseRepeated)
}, { name: 'duplicate-parameters', fastify: '5.x' })
