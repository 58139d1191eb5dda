#!/usr/bin/env node
// Generates src/sim/xapi/xapi-model.generated.ts, the simulator's XAPI entity model, from 3CX's
// swagger: every schema's properties (allOf flattened), enums, navigation properties, entity sets
// (key and alternate keys), singletons and every operation (method, path template, path parameters,
// request body, answer). The simulator's generic XAPI is driven by it (src/sim/xapi/generic-*.ts).
// Usage: npm run gen:xapi-model [-- <spec path>]
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import path from 'node:path'
import { parse } from 'yaml'
import { DEFAULT_SPEC, specHash } from './generate.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
export const MODEL_OUTPUT = path.join(here, '..', 'src', 'sim', 'xapi', 'xapi-model.generated.ts')
const METHODS = ['get', 'post', 'patch', 'delete', 'put']
const REF = '#/components/schemas/'

/** A schema as the compact value spec of xapi-model-types.ts. */
function valueSpec (doc, schema, seen = new Set()) {
  if (schema === undefined || schema === null) return { t: 'any' }
  const nullable = schema.nullable === true ? { n: true } : {}
  if (schema.$ref !== undefined) return { ...refSpec(doc, schema.$ref), ...nullable }
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1 && schema.properties === undefined) {
    return { ...valueSpec(doc, schema.allOf[0], seen), ...nullable }
  }
  if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) {
    const parts = (schema.anyOf ?? schema.oneOf).filter((p) => p.type !== undefined || p.$ref !== undefined)
    const num = parts.find((p) => p.type === 'number' || p.type === 'integer')
    return { ...valueSpec(doc, num ?? parts[0], seen), ...nullable }
  }
  if (schema.type === 'array') return { t: 'array', i: valueSpec(doc, schema.items, seen), ...nullable }
  const props = collectProperties(doc, schema)
  if (props !== null) {
    if ('value' in props && props.value.t === 'array' && Object.keys(props).every((k) => k === 'value' || k === '@odata.count')) {
      return { t: 'collection', i: props.value.i }
    }
    return { t: 'object', p: props, ...nullable }
  }
  if (Array.isArray(schema.enum)) return { t: 'string', e: schema.enum.map(String), ...nullable }
  const t = schema.type ?? 'any'
  return schema.format === undefined ? { t, ...nullable } : { t, f: schema.format, ...nullable }
}

function refSpec (doc, ref) {
  const name = ref.slice(REF.length)
  const target = doc.components.schemas[name]
  if (Array.isArray(target.enum)) return { t: 'enum', r: name }
  if (name.endsWith('CollectionResponse')) return valueSpec(doc, target)
  if (target.type === 'object' || target.allOf !== undefined) return { t: 'complex', r: name }
  return valueSpec(doc, target)
}

/** Properties of an object schema through allOf; null when the schema declares none. */
function collectProperties (doc, schema) {
  let found = false
  const out = {}
  const walk = (s) => {
    if (s === undefined) return
    if (s.$ref !== undefined) { walk(doc.components.schemas[s.$ref.slice(REF.length)]); return }
    for (const part of s.allOf ?? []) walk(part)
    if (s.properties !== undefined) {
      found = true
      for (const [k, v] of Object.entries(s.properties)) out[k] = valueSpec(doc, v)
    }
  }
  walk(schema)
  return found ? out : null
}

function navigationOf (doc, schema) {
  const names = []
  const walk = (s) => {
    if (s === undefined) return
    if (s.$ref !== undefined) { walk(doc.components.schemas[s.$ref.slice(REF.length)]); return }
    for (const part of s.allOf ?? []) walk(part)
    for (const [k, v] of Object.entries(s.properties ?? {})) if (v['x-ms-navigationProperty'] === true) names.push(k)
  }
  walk(schema)
  return names
}

const resolve = (doc, node) => node?.$ref === undefined ? node : node.$ref.split('/').slice(1).reduce((o, k) => o[k], doc)

function answerOf (doc, op) {
  for (const status of ['200', '201', '204']) {
    const res = resolve(doc, op.responses?.[status])
    if (res === undefined) continue
    const schema = res.content?.['application/json']?.schema
    return schema === undefined ? { status: Number(status) } : { status: Number(status), response: valueSpec(doc, schema) }
  }
  return { status: 204 }
}

function paramType (doc, p) {
  const param = resolve(doc, p)
  return [param.name, valueSpec(doc, param.schema)]
}

export function buildModel (doc) {
  const types = {}
  const enums = {}
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    if (Array.isArray(schema.enum)) { enums[name] = schema.enum.map(String); continue }
    const properties = collectProperties(doc, schema)
    if (properties === null) continue
    const navigation = navigationOf(doc, schema)
    types[name] = navigation.length === 0 ? { properties } : { properties, navigation }
  }
  const operations = []
  const entitySets = {}
  const singletons = {}
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method]
      if (op === undefined) continue
      const params = Object.fromEntries((op.parameters ?? []).map((p) => paramType(doc, p)).filter(([, v]) => v !== undefined).filter(([name]) => template.includes(`{${name}}`)))
      const bodySchema = resolve(doc, op.requestBody)?.content?.['application/json']?.schema
      const entry = { method, path: template, kind: op['x-ms-docs-operation-type'] ?? 'operation', params, ...answerOf(doc, op) }
      if (bodySchema !== undefined) entry.body = valueSpec(doc, bodySchema)
      operations.push(entry)
      const top = /^\/([A-Za-z]\w*)$/.exec(template)
      if (top !== null && method === 'get' && entry.response?.t === 'collection' && entry.response.i.t === 'complex') {
        entitySets[top[1]] = { ...entitySets[top[1]], type: entry.response.i.r }
      } else if (top !== null && method === 'get' && entry.response?.t === 'complex') {
        singletons[top[1]] = { type: entry.response.r }
      }
      const keyed = /^\/([A-Za-z]\w*)\(\{(\w+)\}\)$/.exec(template)
      if (keyed !== null && method === 'get' && entry.response?.t === 'complex') {
        entitySets[keyed[1]] = { ...entitySets[keyed[1]], type: entry.response.r, key: keyed[2], keyType: params[keyed[2]]?.t === 'string' ? 'string' : 'integer' }
      } else if (keyed !== null) {
        entitySets[keyed[1]] = { key: keyed[2], keyType: params[keyed[2]]?.t === 'string' ? 'string' : 'integer', ...entitySets[keyed[1]] }
      }
      const alt = /^\/([A-Za-z]\w*)\((\w+)=\{\w+\}\)$/.exec(template)
      if (alt !== null) entitySets[alt[1]] = { ...entitySets[alt[1]], alternateKeys: [...(entitySets[alt[1]]?.alternateKeys ?? []), alt[2]] }
    }
  }
  for (const [name, set] of Object.entries(entitySets)) {
    if (set.type === undefined) {
      // A set addressed only by key (e.g. DELETE /CustomPrompts({Id})) takes its type from the collection or PATCH body.
      const body = operations.find((o) => o.path === `/${name}({${set.key}})` && o.body?.t === 'complex')
      if (body !== undefined) set.type = body.body.r
      else delete entitySets[name]
    }
    if (entitySets[name] === undefined) continue
    set.key ??= 'Id'
    // The key's type is the property's (a set without a keyed path has only its schema to say).
    set.keyType = types[set.type]?.properties[set.key]?.t === 'string' ? 'string' : 'integer'
  }
  return { types, enums, entitySets, singletons, operations }
}

/**
 * The model as TypeScript: its JSON in a String.raw literal, parsed once at load. A 300 kB object
 * literal typed XapiModel cost the type check ~1.5 s (a tenth of it) and V8 more to parse than
 * JSON.parse does; the shape is this generator's (xapi-model-types.ts), and test/sim/xapi-model-stale
 * checks the file is what it makes. One entry a line, for readable diffs.
 */
export function renderModel (model, hash, source) {
  // In String.raw only ` and ${ mean something; in JSON they can only be inside strings, where \u escapes them.
  const json = (v) => JSON.stringify(v).replaceAll('`', '\\u0060').replaceAll('${', '$\\u007b')
  const sections = ['types', 'enums', 'entitySets', 'singletons'].map((key) =>
    `  ${json(key)}: {\n${Object.entries(model[key]).map(([name, value]) => `    ${json(name)}: ${json(value)}`).join(',\n')}\n  }`)
  sections.push(`  "operations": [\n${model.operations.map((op) => `    ${json(op)}`).join(',\n')}\n  ]`)
  return [
    `// Generated by openapi/generate-model.mjs from ${path.basename(source)} (sha256 ${hash}). Do not edit: run npm run gen:xapi-model.`,
    "import type { XapiModel } from './xapi-model-types.js'",
    '',
    'export const XAPI_MODEL: XapiModel = JSON.parse(String.raw`{',
    sections.join(',\n'),
    '}`)',
    ''
  ].join('\n')
}

export async function generateModel (source = DEFAULT_SPEC) {
  const text = await readFile(source, 'utf8')
  const hash = specHash(text)
  await writeFile(MODEL_OUTPUT, renderModel(buildModel(parse(text)), hash, source))
  return { output: MODEL_OUTPUT, hash }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  generateModel(process.argv[2] ?? DEFAULT_SPEC).then(
    ({ output, hash }) => console.log(`wrote ${path.relative(process.cwd(), output)} (sha256 ${hash.slice(0, 12)}…)`),
    (err) => { console.error(`gen:xapi-model failed: ${err.message}`); process.exit(1) }
  )
}
