import t from 'tap'
import Fastify from 'fastify'
import { sharedSerializerFactory } from '../../src/shared-serializers.js'

t.test('one serializer per schema object, shared by every route that answers with it', async (t) => {
  const compile = sharedSerializerFactory()(undefined, {})
  const body = { type: 'object', properties: { a: { type: 'integer' } } }
  const first = compile({ method: 'GET', url: '/x', httpStatus: '200', schema: body })
  t.equal(compile({ method: 'GET', url: '/webapi/:key/x', httpStatus: '200', schema: body }), first, 'the same function for the same schema')
  t.not(compile({ method: 'GET', url: '/y', httpStatus: '200', schema: { ...body } }), first, 'another schema object gets its own')
  t.equal(first({ a: 1, secret: 'x' }), '{"a":1}', 'serializes by the schema')
})

t.test('as Fastify\'s serializer factory: both routes answer by the shared schema', async (t) => {
  const app = Fastify({ schemaController: { compilersFactory: { buildSerializer: sharedSerializerFactory() } } })
  const response = { 200: { type: 'object', properties: { n: { type: 'string' } } } }
  app.get('/a', { schema: { response } }, async () => ({ n: 'a', hidden: 1 }))
  app.get('/b', { schema: { response } }, async () => ({ n: 'b', hidden: 1 }))
  t.teardown(async () => { await app.close() })
  t.equal((await app.inject({ url: '/a' })).body, '{"n":"a"}')
  t.equal((await app.inject({ url: '/b' })).body, '{"n":"b"}')
})
