// The shape of the generated XAPI model (xapi-model.generated.ts, made by openapi/generate-model.mjs
// from 3CX's swagger). Value specs are compact because the model holds ~600 schemas.

/** One value: a property, a parameter, a request body or an answer. `n`: nullable. */
export type XapiValue =
  | { t: 'string', f?: string, e?: string[], n?: true }
  | { t: 'integer' | 'number' | 'boolean' | 'any', f?: string, n?: true }
  | { t: 'enum', r: string, n?: true }
  | { t: 'complex', r: string, n?: true }
  | { t: 'object', p: Record<string, XapiValue>, n?: true }
  | { t: 'array', i: XapiValue, n?: true }
  | { t: 'collection', i: XapiValue }

export interface XapiType {
  properties: Record<string, XapiValue>
  navigation?: string[]
}

export interface XapiEntitySet {
  type: string
  key: string
  keyType: 'integer' | 'string'
  alternateKeys?: string[]
}

export interface XapiOperation {
  method: 'get' | 'post' | 'patch' | 'delete' | 'put'
  /** The swagger's path template, e.g. `/Users({Id})/Pbx.GetPhoneSecret()`. */
  path: string
  /** x-ms-docs-operation-type: operation, function, action, functionImport, actionImport. */
  kind: string
  params: Record<string, XapiValue>
  status: number
  response?: XapiValue
  body?: XapiValue
}

export interface XapiModel {
  types: Record<string, XapiType>
  enums: Record<string, string[]>
  entitySets: Record<string, XapiEntitySet>
  singletons: Record<string, { type: string }>
  operations: XapiOperation[]
}
