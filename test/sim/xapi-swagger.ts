// Validates simulator answers against 3CX's own XAPI OpenAPI document: the whole document is added
// to Ajv under one $id so every `#/components/schemas/…` reference resolves. OpenAPI 3.0 `nullable`
// is rewritten into JSON Schema (`type: [T, 'null']` or `anyOf […, null]`) first, because Ajv's own
// `nullable` keyword refuses schemas without `type` (3CX's `allOf: [$ref], nullable: true`).
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { parse } from 'yaml'

/** The copy of 3CX's spec kept in the repository (openapi/SOURCES.md says where it comes from). */
export const SWAGGER_PATH = fileURLToPath(new URL('../../openapi/xapi-swagger.yaml', import.meta.url))

// ajv-formats is CommonJS with `exports.default`: under NodeNext the default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv

type Json = any

function rewriteNullable (node: Json): Json {
  if (Array.isArray(node)) return node.map(rewriteNullable)
  if (node === null || typeof node !== 'object') return node
  const out: Json = {}
  for (const [k, v] of Object.entries(node)) out[k] = rewriteNullable(v)
  if (out.nullable !== true) return out
  delete out.nullable
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null']
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null]
    return out
  }
  return { anyOf: [out, { type: 'null' }] }
}

export interface SwaggerContract {
  /**
   * Validator for the 200 answer of `method path`: the path as in the spec (`/Users({Id})`), or a
   * bound function's path without its parameter list (`/ReportCallLogData/Pbx.GetCallLogData`).
   */
  responseValidator: (path: string, method?: string) => ValidateFunction
  schemaValidator: (schemaName: string) => ValidateFunction
  /** Property names a schema declares (through allOf). */
  declaredProperties: (schemaName: string) => Set<string>
}

let parsed: Json | undefined
/**
 * The spec as parsed YAML, once per process (read it, never change it): a test batch runs several
 * files that read it, and each parse cost about a second. uniqueKeys: false skips yaml's duplicate-key
 * check, quadratic in a map's size (a third of the parse); the spec is a vendored copy, not input to check.
 */
export function swaggerDocument (): Json {
  parsed ??= parse(readFileSync(SWAGGER_PATH, 'utf8'), { uniqueKeys: false })
  return parsed
}

let contract: SwaggerContract | null | undefined
/** The contract, built once per process (its validators compiled as files ask for them); null without the spec. */
export function loadSwagger (): SwaggerContract | null {
  if (contract === undefined) contract = existsSync(SWAGGER_PATH) ? buildContract() : null
  return contract
}

function buildContract (): SwaggerContract {
  // Ajv's code optimisation only shortens the generated code: the walk compiles some 300 validators
  // and runs each once, so it halves their cost.
  const doc = rewriteNullable(swaggerDocument())
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, code: { optimize: false } })
  addFormats(ajv)
  // Edm.TimeOfDay ('09:00:00') is OpenAPI format `time`, which ajv-formats wants with a zone offset.
  ajv.addFormat('time', /^\d{2}:\d{2}(:\d{2}(\.\d{1,12})?)?$/)
  for (const f of ['int32', 'int64', 'decimal', 'double', 'float', 'uint8', 'int8', 'int16', 'base64url']) ajv.addFormat(f, true)
  ajv.addSchema({ $id: 'https://3cx.example/xapi.json', components: doc.components })
  const cache = new Map<string, ValidateFunction>()
  const byRef = (ref: string): ValidateFunction => {
    const v = cache.get(ref) ?? ajv.compile({ $ref: `https://3cx.example/xapi.json${ref}` })
    cache.set(ref, v)
    return v
  }
  const resolveRef = (ref: string): Json => ref.replace(/^#\//, '').split('/').reduce((o: Json, k) => o[k], doc)
  return {
    responseValidator (path, method = 'get') {
      const template = doc.paths[path] !== undefined ? path : Object.keys(doc.paths).find((k) => k.startsWith(`${path}(`))
      const op = template === undefined ? undefined : doc.paths[template]?.[method]
      if (op === undefined) throw new Error(`the spec has no ${method.toUpperCase()} ${path}`)
      let response = op.responses['200'] ?? op.responses['201'] ?? op.responses['204']
      if (response.$ref !== undefined) response = resolveRef(response.$ref)
      const schema = response.content?.['application/json']?.schema
      if (schema === undefined) throw new Error(`${method} ${path} declares no JSON body`)
      // Keyed by the schema, not the operation: many operations answer the same one.
      const key = JSON.stringify(schema).replace(/"#\/components/g, '"https://3cx.example/xapi.json#/components')
      const v = cache.get(key) ?? ajv.compile(JSON.parse(key))
      cache.set(key, v)
      return v
    },
    schemaValidator: (name) => byRef(`#/components/schemas/${name}`),
    declaredProperties (name) {
      const names = new Set<string>()
      const walk = (s: Json): void => {
        if (s === undefined || s === null) return
        if (s.$ref !== undefined) { walk(resolveRef(s.$ref)); return }
        for (const k of Object.keys(s.properties ?? {})) names.add(k)
        for (const part of [...(s.allOf ?? []), ...(s.anyOf ?? [])]) walk(part)
      }
      walk(doc.components.schemas[name])
      return names
    }
  }
}
