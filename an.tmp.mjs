import {parse} from 'yaml'; import {readFileSync} from 'fs'
const d=parse(readFileSync('openapi/xapi-swagger.yaml','utf8'))
const s=d.components.schemas
console.log(Object.keys(s).length, Object.keys(d.components.responses??{}).length, Object.keys(d.components.requestBodies??{}).length)
console.log(JSON.stringify(s['Pbx.User']).slice(0,1500))
console.log(JSON.stringify(s['Pbx.QueueStatusType']))
console.log(JSON.stringify(d.components.responses['Pbx.UserCollectionResponse']))
console.log(JSON.stringify(s['Pbx.UserCollectionResponse']))
for (const p of ['/Users','/Users({Id})','/SystemStatus/Pbx.SystemHealthStatus()','/Users/Pbx.BatchDelete','/Users({Id})/Groups','/Trunks/Pbx.InitTrunk(template={template})','/Users({Id})/Pbx.GetPhoneSecret()', '/Contacts/Pbx.GetDirSearchSettings()']) console.log(p, JSON.stringify(d.paths[p]).slice(0,1800))
const kinds={}
for (const [k,v] of Object.entries(s)) { const t = v.type ?? (v.allOf?'allOf':v.anyOf?'anyOf':v.enum?'enum':'?'); kinds[t]=(kinds[t]??0)+1 }
console.log(kinds)
