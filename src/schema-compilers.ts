// Route validators (Ajv) and response serializers (fast-json-stringify) compiled once per process and
// shared by every Fastify app it builds: the gateway's, each tenant's, the same ones again after a
// restart in the same process, and the simulator's. Compiling a schema costs a millisecond or more,
// every legacy method is served at two URLs and lists the same error bodies, and each new app compiled
// all of it again: start-up CPU in production, and about a fifth of the CPU of tests that build a gateway
// and a simulator per sub-test (issue 16).
//
// A compiled function is reused only for a schema with the same JSON text, compiled by the same kind of
// compiler with the same options and the same shared (addSchema) schemas: the cache key holds all of
// them, so a route can never get a function compiled from another schema. A schema JSON cannot show
// exactly (a function, a RegExp, undefined, a class instance) or one that names an `$id` (Ajv files
// those by id, so a later app's different schema of that id would get the first one's) is compiled per
// app, as Fastify does. The compilers are Fastify's own with Fastify's Ajv options (type coercion,
// removeAdditional, useDefaults, ajv-formats): only their pool is the process's instead of the app's,
// so validation and its error messages are what they were.
import AjvCompiler from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import { Ajv, type Options as AjvOptions, type AnySchema } from 'ajv'
import type { FastifySchemaCompiler, FastifyServerOptions } from 'fastify'

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>
type BuildValidator = NonNullable<CompilersFactory['buildValidator']>
type BuildSerializer = NonNullable<CompilersFactory['buildSerializer']>
type Compile<R, F> = (route: R) => F

/**
 * By scope (kind, options, shared schemas): the one compiler of the process for it (made at its first
 * compile) and the functions it compiled, by schema text. Bounded by the distinct schemas the code declares.
 */
const scopes = new Map<string, { compiler: Compile<never, unknown> | null, functions: Map<string, unknown> }>()

/** Keys that make Ajv file a schema by a name; a schema holding one is not shared. */
const NAMING_KEYS = new Set(['$id', '$anchor', '$dynamicAnchor'])

function isPlainJson (value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true
  if (typeof value === 'number') return Number.isFinite(value)
  if (typeof value !== 'object' || Array.isArray(value)) return Array.isArray(value)
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/**
 * The JSON text of `value` when it says all of `value` (only plain objects, arrays, strings, finite
 * numbers, booleans and null), else undefined; also undefined when `namesAllowed` is false and it
 * holds an `$id`-like key anywhere.
 */
export function schemaText (value: unknown, namesAllowed = false): string | undefined {
  let exact = true
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key, shown: unknown) {
    if (!isPlainJson(this[key]) || (!namesAllowed && NAMING_KEYS.has(key))) exact = false
    return shown
  })
  return exact ? text : undefined
}

/**
 * schemaText of a route's schema, kept by object: most schemas are module constants every app passes
 * again. A schema is taken as unchanged once compiled, as Ajv's own cache (by object) takes it.
 */
const routeSchemaTexts = new WeakMap<object, string | null>()
function routeSchemaText (schema: unknown): string | undefined {
  if (schema === null || typeof schema !== 'object') return schemaText(schema)
  let text = routeSchemaTexts.get(schema)
  if (text === undefined) {
    text = schemaText(schema) ?? null
    routeSchemaTexts.set(schema, text)
  }
  return text ?? undefined
}

/**
 * A route compiler that takes a schema's function from the process's cache, compiling it on a miss
 * with the scope's one compiler (`make()`, called once per scope and process); `scope` (kind, options,
 * shared schemas) is part of the key, and undefined when nothing may be shared. Schemas that cannot be
 * keyed go to a compiler of this app's own, also made by `make()`.
 */
function cached<R extends { schema?: unknown }, F> (scope: string | undefined, make: () => Compile<R, F>): Compile<R, F> {
  let own: Compile<R, F> | undefined
  let shared: { compiler: Compile<R, F> | null, functions: Map<string, unknown> } | undefined
  if (scope !== undefined) {
    shared = scopes.get(scope) as typeof shared
    if (shared === undefined) scopes.set(scope, shared = { compiler: null, functions: new Map() })
  }
  return (route) => {
    const text = shared === undefined ? undefined : routeSchemaText(route.schema)
    if (shared === undefined || text === undefined) {
      own ??= make()
      return own(route)
    }
    // Two maps rather than one joined key: the text is the string kept for its schema object, whose hash V8 keeps.
    let fn = shared.functions.get(text) as F | undefined
    if (fn === undefined) {
      shared.compiler ??= make()
      fn = shared.compiler(route)
      shared.functions.set(text, fn)
    }
    return fn
  }
}

/**
 * Off (the default): a route's validators and serializers are compiled at their first use, not when
 * the app gets ready. Compiling every schema of the gateway and its demo simulator was about a third
 * of the start-up (~250 ms of ~1 s; issue 16), and most routes of an app are never called in a test
 * process. On: compiled when the app gets ready, as Fastify does: what a test that must see every
 * schema compile sets (test/plugins/schemas-compile.test.ts). The functions are the same either way.
 */
let eager = false
export function compileSchemasAtStart (on: boolean): void {
  eager = on
}

/**
 * Ajv checks every schema against the JSON Schema meta-schema before compiling it, and compiles that
 * meta-schema at its first schema: ~50 ms of the start-up (the first request a demo start validates,
 * issue 16). The schemas are the code's own and do not change at run time, so the check runs where
 * every schema is compiled at once (compileSchemasAtStart(true): test/plugins/schemas-compile.test.ts)
 * and is skipped otherwise. The option is part of each compiler's scope key, so functions compiled
 * with and without the check are never mixed up.
 */
function withSchemaCheck<O extends object> (options: O): O & { validateSchema: boolean } {
  return { ...options, validateSchema: eager }
}

type Validate = ((data: unknown, context?: unknown) => unknown) & { errors?: unknown, schemaEnv?: unknown }

/**
 * A validator compiled at its first use. Fastify reads `schemaEnv` before it calls a validator (Ajv's
 * functions have one: Fastify then passes the parent object, so that Ajv can coerce a root value), so
 * reading it compiles too; `errors` is the compiled function's, copied after each call.
 */
export function lazyValidator (compile: () => Validate): Validate {
  let real: Validate | undefined
  const get = (): Validate => (real ??= compile())
  const validate = function (data: unknown, context?: unknown): unknown {
    const fn = get()
    const valid = context === undefined ? fn(data) : fn(data, context)
    validate.errors = fn.errors
    return valid
  } as Validate
  Object.defineProperty(validate, 'schemaEnv', { get: () => get().schemaEnv })
  return validate
}

/** A serializer compiled at its first use. */
export function lazySerializer (compile: () => (value: unknown) => string): (value: unknown) => string {
  let real: ((value: unknown) => string) | undefined
  return (value) => (real ??= compile())(value)
}

interface ValidatorRoute { schema?: unknown, httpPart?: string }
type ValidatorCompile = Compile<ValidatorRoute, unknown>

type ValidatorPool = (externalSchemas: unknown, options: unknown) => ValidatorCompile

/** Fastify's `schemaController.compilersFactory.buildValidator`: its default Ajv compiler, shared by every app. */
export const buildValidator: BuildValidator = ((externalSchemas: unknown, fastifyOptions: { customOptions?: object }) => {
  const options = { ...fastifyOptions, customOptions: withSchemaCheck(fastifyOptions.customOptions ?? {}) }
  // Options holding functions (Ajv plugins, onCreate) are not in the pool's key: such an app gets its own.
  const scope = schemaText([externalSchemas, options], true)
  const compile = cached<ValidatorRoute, unknown>(scope === undefined ? undefined : `validator\n${scope}`,
    () => (AjvCompiler() as unknown as ValidatorPool)(externalSchemas, options))
  return (route: ValidatorRoute) => {
    // A custom compiler makes Fastify skip lower-casing a headers schema's names: say so rather than
    // validate headers case-sensitively.
    if (route.httpPart === 'headers') throw new Error('src/schema-compilers.ts does not compile headers schemas (Fastify would no longer lower-case their names); add that before using one')
    return eager ? compile(route) : lazyValidator(() => compile(route) as Validate)
  }
}) as unknown as BuildValidator

type SerializerCompile = Compile<{ schema?: unknown }, unknown>
const fastJsonStringify = SerializerSelector() as unknown as (externalSchemas: unknown, options: unknown) => SerializerCompile

/** Fastify's `schemaController.compilersFactory.buildSerializer`: its default fast-json-stringify compiler, shared by every app. */
export const buildSerializer: BuildSerializer = ((externalSchemas: unknown, options: unknown) => {
  const scope = schemaText([externalSchemas ?? null, options ?? null], true)
  const compile = cached(scope === undefined ? undefined : `serializer\n${scope}`, () => fastJsonStringify(externalSchemas, options))
  return (route: { schema?: unknown }) => eager ? compile(route) : lazySerializer(() => compile(route) as (value: unknown) => string)
}) as unknown as BuildSerializer

/** For `schemaController: { compilersFactory }` of every Fastify app the process builds. */
export const sharedCompilers = { buildValidator, buildSerializer }

/**
 * A validator compiler for `app.setValidatorCompiler()` on a plain Ajv with these options (not
 * Fastify's), sharing compiled validators with every app that uses the same options. Call it per app.
 */
export function ajvValidators (ajvOptions: AjvOptions): () => FastifySchemaCompiler<AnySchema> {
  return () => {
    // The schema check (withSchemaCheck) is read as each app is built.
    const options = withSchemaCheck(ajvOptions)
    const scope = schemaText(options, true)
    const compile = cached<{ schema?: unknown }, unknown>(scope === undefined ? undefined : `ajv\n${scope}`, () => {
      const ajv = new Ajv(options)
      return ({ schema }) => ajv.compile(schema as AnySchema)
    })
    return ((route: { schema?: unknown }) => eager ? compile(route) : lazyValidator(() => compile(route) as Validate)) as unknown as FastifySchemaCompiler<AnySchema>
  }
}
