// src/sim/xapi/xapi-model.generated.ts must be what openapi/generate-model.mjs makes from the current
// swagger (npm run gen:xapi-model): rendered afresh here and compared byte for byte.
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { swaggerDocument } from './xapi-swagger.js'
// @ts-expect-error generate-model.mjs is plain JavaScript without type declarations
import { MODEL_OUTPUT, buildModel, renderModel } from '../../openapi/generate-model.mjs'
// @ts-expect-error generate.mjs is plain JavaScript without type declarations
import { DEFAULT_SPEC, specHash } from '../../openapi/generate.mjs'
import { XAPI_MODEL } from '../../src/sim/xapi/xapi-model.generated.js'

t.test('the generated XAPI model matches the swagger', async (t) => {
  const spec = await readFile(DEFAULT_SPEC as string, 'utf8')
  const fresh = (renderModel as (m: unknown, h: string, s: string) => string)((buildModel as (d: unknown) => unknown)(swaggerDocument()), (specHash as (s: string) => string)(spec), DEFAULT_SPEC as string)
  const current = await readFile(MODEL_OUTPUT as string, 'utf8')
  t.ok(current === fresh, 'the swagger or the generator changed: run `npm run gen:xapi-model` and commit src/sim/xapi/xapi-model.generated.ts')
})

t.test('the rendered model reads back as the model, a backtick or ${ in a name included', async (t) => {
  // The model's JSON sits in a String.raw template literal: ` and ${ must not end or interpolate it.
  const model = { types: { 'A`b${c}': { properties: { 'x\\y"z': { t: 'string' } } } }, enums: { E: ['`', '${', '\\'] }, entitySets: {}, singletons: {}, operations: [{ path: '/P(x=`${y}`)' }] }
  const source = (renderModel as (m: unknown, h: string, s: string) => string)(model, 'h', 'spec.yaml')
  const literal = /JSON\.parse\((String\.raw`[\s\S]*`)\)\n$/.exec(source)?.[1]
  t.ok(literal, 'a String.raw literal parsed with JSON.parse')
  t.same(JSON.parse(new Function(`return ${literal ?? '``'}`)() as string), model)
})

t.test('the model holds every operation, entity set and singleton of the swagger', async (t) => {
  t.equal(XAPI_MODEL.operations.length, 601)
  t.same(XAPI_MODEL.entitySets.Users, { key: 'Id', keyType: 'integer', alternateKeys: ['Number'], type: 'Pbx.User' })
  t.equal(XAPI_MODEL.singletons.SystemStatus.type, 'Pbx.SystemStatus')
  t.same(XAPI_MODEL.enums['Pbx.QueueStatusType'], ['LoggedOut', 'LoggedIn'])
  t.ok(Object.keys(XAPI_MODEL.types['Pbx.User'].properties).length >= 75, 'Pbx.User has every property (allOf flattened)')
  t.same(XAPI_MODEL.types['Pbx.Queue'].navigation, ['Groups', 'Agents', 'Managers'], 'navigation properties come from x-ms-navigationProperty (through allOf)')
})
