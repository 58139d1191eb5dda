// GET /xapi/v1/$metadata: the service's CSDL (OData's XML schema document) derived from the generated
// model, so OData clients and code generators can read the simulator as they read a PBX. Pure; the
// document is built once.
import type { XapiValue } from './xapi-model-types.js'
import { XAPI_MODEL } from './xapi-model.generated.js'
import { edmName } from './schema-defaults.js'

const xml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;')
const local = (name: string): string => name.replace(/^Pbx\./, '')

function propertyXml (name: string, spec: XapiValue, navigation: boolean): string {
  const tag = navigation ? 'NavigationProperty' : 'Property'
  const nullable = spec.t !== 'array' && spec.t !== 'collection' && spec.n !== true ? ' Nullable="false"' : ''
  return `<${tag} Name="${xml(name)}" Type="${xml(edmName(spec))}"${nullable}/>`
}

let cached: string | undefined

export function metadataDocument (): string {
  if (cached !== undefined) return cached
  const keys = new Map(Object.values(XAPI_MODEL.entitySets).map((s) => [s.type, s.key]))
  const parts: string[] = []
  for (const [name, members] of Object.entries(XAPI_MODEL.enums)) {
    parts.push(`<EnumType Name="${xml(local(name))}">${members.map((m, i) => `<Member Name="${xml(m)}" Value="${i}"/>`).join('')}</EnumType>`)
  }
  for (const [name, type] of Object.entries(XAPI_MODEL.types)) {
    if (!name.startsWith('Pbx.')) continue
    const key = keys.get(name)
    const tag = key === undefined ? 'ComplexType' : 'EntityType'
    const props = Object.entries(type.properties).map(([p, spec]) => propertyXml(p, spec, type.navigation?.includes(p) === true)).join('')
    parts.push(`<${tag} Name="${xml(local(name))}">${key === undefined ? '' : `<Key><PropertyRef Name="${xml(key)}"/></Key>`}${props}</${tag}>`)
  }
  const container = [
    ...Object.entries(XAPI_MODEL.entitySets).map(([n, s]) => `<EntitySet Name="${xml(n)}" EntityType="${xml(s.type)}"/>`),
    ...Object.entries(XAPI_MODEL.singletons).map(([n, s]) => `<Singleton Name="${xml(n)}" Type="${xml(s.type)}"/>`)
  ].join('')
  cached = '<?xml version="1.0" encoding="utf-8"?>' +
    '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>' +
    `<Schema Namespace="Pbx" xmlns="http://docs.oasis-open.org/odata/ns/edm">${parts.join('')}` +
    `<EntityContainer Name="Container">${container}</EntityContainer></Schema>` +
    '</edmx:DataServices></edmx:Edmx>'
  return cached
}
