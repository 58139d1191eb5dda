// The process-wide cache of compiled validators and serializers (src/schema-compilers.ts): a route
// gets a function compiled from its own schema, never another's, and what validation answers (coercion,
// removed properties, formats, error messages) is what Fastify's own compilers answer. The cache is
// seen through functions compiled when an app gets ready (compileSchemasAtStart); the last tests show
// the default, compiled at first use.
import t from 'tap'
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifySchema } from 'fastify'
import { ajvValidators, buildSerializer, compileSchemasAtStart, lazySerializer, lazyValidator, schemaText, sharedCompilers } from '../../src/schema-compilers.js'

compileSchemasAtStart(true)
t.teardown(() => { compileSchemasAtStart(false) }) // the default again for the next file in this process

const shared = (): FastifyInstance => Fastify({ schemaController: { compilersFactory: sharedCompilers } }) as unknown as FastifyInstance

/** An app with one route per schema at /0, /1, … (GET, POST for a body), answering with what it got; `validators` holds the querystring validators requests met. */
async function appWith (schemas: FastifySchema[], make = shared): Promise<{ app: FastifyInstance, validators: unknown[] }> {
  const app = make()
  const validators: unknown[] = []
  schemas.forEach((schema, i) => {
    const preValidation = async (req: FastifyRequest): Promise<void> => { validators[i] = req.getValidationFunction('querystring') }
    if (schema.body === undefined) app.get(`/${i}`, { schema, preValidation }, async (req) => ({ query: req.query }))
    else app.post(`/${i}`, { schema }, async (req) => ({ body: req.body }))
  })
  await app.ready()
  return { app, validators }
}

const limit = (max: number): FastifySchema => ({ querystring: { type: 'object', properties: { n: { type: 'integer', maximum: max } } } })

t.test('schemaText keys only what JSON shows exactly, and no schema that names an $id', async (t) => {
  t.equal(schemaText({ type: 'object', properties: { a: { type: 'string', enum: ['x', null] } } }), '{"type":"object","properties":{"a":{"type":"string","enum":["x",null]}}}')
  t.equal(schemaText({ type: 'string', pattern: /a/ }), undefined, 'a RegExp')
  t.equal(schemaText({ type: 'string', format: undefined }), undefined, 'undefined')
  t.equal(schemaText({ type: 'string', check: () => true }), undefined, 'a function')
  t.equal(schemaText({ maximum: Infinity }), undefined, 'a number JSON writes as null')
  t.equal(schemaText({ type: 'object', properties: { a: { $id: 'a', type: 'string' } } }), undefined, 'an $id anywhere')
  t.equal(schemaText({ a: { $id: 'a' } }, true), '{"a":{"$id":"a"}}', 'shared schemas keep their ids')
})

t.test('each route validates by its own schema, in one app and across apps', async (t) => {
  const one = await appWith([limit(5), limit(50), limit(5)])
  const two = await appWith([limit(50), limit(5)])
  t.teardown(async () => { await one.app.close(); await two.app.close() })
  const status = async (app: FastifyInstance, url: string): Promise<number> => (await app.inject({ url })).statusCode
  t.same([await status(one.app, '/0?n=10'), await status(one.app, '/1?n=10'), await status(one.app, '/2?n=10')], [400, 200, 400])
  t.same([await status(two.app, '/0?n=10'), await status(two.app, '/1?n=10')], [200, 400], 'the second app, routes in the other order')
  t.same([await status(one.app, '/0?n=3'), await status(two.app, '/1?n=3')], [200, 200])
  t.equal(one.validators[0], two.validators[1], 'the same schema (another object) gets the function compiled once')
  t.equal(one.validators[0], one.validators[2])
  t.not(one.validators[0], one.validators[1], 'another schema gets its own')
})

t.test('schemas naming an $id are compiled per app: a later app\'s schema of that id is its own', async (t) => {
  const named = (max: number): FastifySchema => ({ querystring: { $id: 'q', type: 'object', properties: { n: { type: 'integer', maximum: max } } } })
  const one = await appWith([named(5)])
  const two = await appWith([named(50)])
  t.teardown(async () => { await one.app.close(); await two.app.close() })
  t.equal((await one.app.inject({ url: '/0?n=10' })).statusCode, 400)
  t.equal((await two.app.inject({ url: '/0?n=10' })).statusCode, 200)
  // A plain Ajv files every schema it compiles by its $id: sharing one would refuse the second app.
  const validators = ajvValidators({ coerceTypes: true })
  const plain = (): FastifyInstance => {
    const app = Fastify() as unknown as FastifyInstance
    app.setValidatorCompiler(validators())
    return app
  }
  const three = await appWith([named(5)], plain)
  const four = await appWith([named(50)], plain)
  t.teardown(async () => { await three.app.close(); await four.app.close() })
  t.equal((await three.app.inject({ url: '/0?n=10' })).statusCode, 400)
  t.equal((await four.app.inject({ url: '/0?n=10' })).statusCode, 200)
})

t.test('validation answers and error bodies are those of Fastify\'s own compilers', async (t) => {
  const schemas: FastifySchema[] = [
    { querystring: { type: 'object', required: ['n'], properties: { n: { type: 'integer' }, list: { type: 'array', items: { type: 'integer' } }, flag: { type: 'boolean', default: false } } } },
    { querystring: { type: 'object', properties: { day: { type: 'string', format: 'date' }, mail: { type: 'string', format: 'email' } } } },
    { body: { type: 'object', required: ['a'], additionalProperties: false, properties: { a: { type: 'string', minLength: 2 }, b: { type: 'number' } } } }
  ]
  const ours = await appWith(schemas)
  const fastifys = await appWith(schemas, () => Fastify() as unknown as FastifyInstance)
  t.teardown(async () => { await ours.app.close(); await fastifys.app.close() })
  const requests = [
    { url: '/0?n=7&list=3&extra=1' }, { url: '/0' }, { url: '/0?n=x' }, { url: '/0?n=1&list=a' }, { url: '/0?n=1&flag=yes' },
    { url: '/1?day=2026-02-30&mail=a@b.c' }, { url: '/1?day=2026-12-06&mail=a@b.c' }, { url: '/1?mail=nope' },
    { method: 'POST' as const, url: '/2', payload: { a: 'xy', b: '4', c: 1 } }, { method: 'POST' as const, url: '/2', payload: { a: 'x' } },
    { method: 'POST' as const, url: '/2', payload: { b: 1 } }
  ]
  const bodies: string[] = []
  for (const r of requests) {
    const a = await ours.app.inject(r)
    const b = await fastifys.app.inject(r)
    t.same([a.statusCode, a.body], [b.statusCode, b.body], `${r.method ?? 'GET'} ${r.url} ${JSON.stringify(r.payload ?? '')}`)
    bodies.push(a.body)
  }
  // A few literally, so a change in both would show too.
  t.equal(bodies[0], '{"query":{"n":7,"list":[3],"extra":"1","flag":false}}', 'coercion and defaults')
  t.equal(bodies[1], '{"statusCode":400,"code":"FST_ERR_VALIDATION","error":"Bad Request","message":"querystring must have required property \'n\'"}')
  t.equal(bodies[5], '{"statusCode":400,"code":"FST_ERR_VALIDATION","error":"Bad Request","message":"querystring/day must match format \\"date\\""}', 'ajv-formats')
  t.equal(bodies[8], '{"body":{"a":"xy","b":4}}', 'unknown properties removed, types coerced')
})

t.test('a headers schema is refused at start-up, not validated case-sensitively', async (t) => {
  const app = shared()
  app.get('/', { schema: { headers: { type: 'object', properties: { 'X-Thing': { type: 'string' } } } } }, async () => 'x')
  await t.rejects(async () => { await app.ready() }, /does not compile headers schemas/)
})

t.test('serializers: one function per schema text, each route answering by its own schema', async (t) => {
  const compile = buildSerializer(undefined as never, {}) as unknown as (route: object) => (v: unknown) => string
  const later = buildSerializer(undefined as never, {}) as unknown as typeof compile
  const body = { type: 'object', properties: { a: { type: 'integer' } } }
  const first = compile({ method: 'GET', url: '/x', httpStatus: '200', schema: body })
  t.equal(later({ method: 'GET', url: '/webapi/:key/x', httpStatus: '200', schema: { ...body } }), first, 'another app, the same schema text')
  const other = compile({ method: 'GET', url: '/y', httpStatus: '200', schema: { type: 'object', properties: { b: { type: 'integer' } } } })
  t.not(other, first)
  t.equal(first({ a: 1, b: 2 }), '{"a":1}')
  t.equal(other({ a: 1, b: 2 }), '{"b":2}')
  const app = shared()
  const response = { 200: { type: 'object', properties: { n: { type: 'string' } } } }
  app.get('/a', { schema: { response } }, async () => ({ n: 'a', hidden: 1 }))
  app.get('/b', { schema: { response: { 200: { type: 'object', properties: { hidden: { type: 'integer' } } } } } }, async () => ({ n: 'b', hidden: 1 }))
  t.teardown(async () => { await app.close() })
  t.equal((await app.inject({ url: '/a' })).body, '{"n":"a"}')
  t.equal((await app.inject({ url: '/b' })).body, '{"hidden":1}')
})

t.test('ajvValidators: plain Ajv with its own options, shared between apps by schema text', async (t) => {
  const validators = ajvValidators({ coerceTypes: true, removeAdditional: false })
  const strict = (prop: string): FastifySchema => ({ body: { type: 'object', additionalProperties: false, properties: { [prop]: { type: 'integer' } } } })
  const make = async (props: string[]): Promise<FastifyInstance> => {
    const app = Fastify() as unknown as FastifyInstance
    app.setValidatorCompiler(validators())
    props.forEach((p, i) => app.post(`/${i}`, { schema: strict(p) }, async (req) => req.body))
    await app.ready()
    return app
  }
  const one = await make(['a', 'b'])
  const two = await make(['b'])
  t.teardown(async () => { await one.close(); await two.close() })
  const post = async (app: FastifyInstance, url: string, payload: object): Promise<string> => {
    const res = await app.inject({ method: 'POST', url, payload })
    return `${res.statusCode} ${res.body}`
  }
  t.equal(await post(one, '/0', { a: '1' }), '200 {"a":1}')
  t.match(await post(one, '/0', { b: 1 }), /^400 .*must NOT have additional properties/, 'not removed: refused')
  t.equal(await post(one, '/1', { b: 2 }), '200 {"b":2}')
  t.equal(await post(two, '/0', { b: 2 }), '200 {"b":2}')
  t.match(await post(two, '/0', { a: 2 }), /^400 /)
})

t.test('at first use (the default): an app gets ready without compiling; the route validates, coerces and reports as compiled at start', async (t) => {
  compileSchemasAtStart(false)
  t.teardown(() => { compileSchemasAtStart(true) })
  const app = shared()
  t.teardown(async () => { await app.close() })
  // An integer body coerced at its root: Ajv can replace a root value only when Fastify passes the
  // parent (it does when the validator has `schemaEnv`).
  app.post('/n', { schema: { body: { type: 'integer', maximum: 5 } } }, async (req) => ({ n: req.body }))
  app.get('/q', { schema: { querystring: limit(5).querystring, response: { 200: { type: 'object', properties: { n: { type: 'integer' } } } } } }, async (req) => ({ n: (req.query as { n: number }).n, extra: 'dropped' }))
  await app.ready()
  const post = async (body: string): Promise<{ statusCode: number, json: () => unknown }> => await app.inject({ method: 'POST', url: '/n', headers: { 'content-type': 'application/json' }, body })
  t.same((await post('"4"')).json(), { n: 4 }, 'the root value coerced')
  t.match((await post('7')).json(), { statusCode: 400, message: 'body must be <= 5' }, 'Ajv\'s message')
  t.same((await app.inject({ url: '/q?n=3' })).json(), { n: 3 }, 'the response serialized by its schema')
  t.equal((await app.inject({ url: '/q?n=30' })).statusCode, 400)
})

t.test('lazy functions: compiled once, at the first call or the first read of schemaEnv; errors follow each call', async (t) => {
  let compiles = 0
  const real = Object.assign((n: unknown) => { real.errors = n === 1 ? null : [{ message: 'not 1' }]; return n === 1 }, { errors: null as unknown, schemaEnv: { root: true } })
  const validate = lazyValidator(() => { compiles++; return real })
  t.equal(compiles, 0)
  t.same(validate.schemaEnv, { root: true })
  t.equal(compiles, 1, 'reading schemaEnv compiles')
  t.equal(validate(2), false)
  t.same(validate.errors, [{ message: 'not 1' }])
  t.equal(validate(1), true)
  t.equal(validate.errors, null)
  t.equal(compiles, 1)
  let serializers = 0
  const serialize = lazySerializer(() => { serializers++; return (v) => JSON.stringify(v) })
  t.equal(serializers, 0)
  t.equal(serialize({ a: 1 }), '{"a":1}')
  t.equal(serialize([2]), '[2]')
  t.equal(serializers, 1)
})

t.test('the meta-schema check: on where every schema is compiled at start (the tests), skipped at first use (production start-up)', async (t) => {
  // minLength must be ≥ 0: only the JSON Schema meta-schema says so; Ajv compiles the schema without it.
  // A new object each time: Ajv files a schema object before it checks it, and would not check it again.
  const odd = (): FastifySchema => ({ querystring: { type: 'object', properties: { s: { type: 'string', minLength: -1 } } } })
  const route = async (make: () => FastifyInstance): Promise<FastifyInstance> => {
    const app = make()
    app.get('/', { schema: odd() }, async (req) => req.query)
    return app
  }
  const checked = await route(shared)
  t.teardown(async () => { await checked.close() })
  await t.rejects(async () => { await checked.ready() }, /schema is invalid: data\/properties\/s\/minLength must be >= 0/, 'Fastify\'s compilers (eager): refused at start')
  const plain = ajvValidators({ coerceTypes: true })
  const checkedPlain = await route(() => { const app = Fastify() as unknown as FastifyInstance; app.setValidatorCompiler(plain()); return app })
  t.teardown(async () => { await checkedPlain.close() })
  await t.rejects(async () => { await checkedPlain.ready() }, /schema is invalid/, 'ajvValidators (eager): refused at start')

  compileSchemasAtStart(false)
  t.teardown(() => { compileSchemasAtStart(true) })
  for (const make of [shared, () => { const app = Fastify() as unknown as FastifyInstance; app.setValidatorCompiler(plain()); return app }]) {
    const app = await route(make)
    t.teardown(async () => { await app.close() })
    await app.ready()
    t.same((await app.inject({ url: '/?s=x' })).json(), { s: 'x' }, 'at first use: compiled without the check, and validates')
  }
})
