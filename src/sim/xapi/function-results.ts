// Functions and actions whose answer a real PBX computes from its state, computed here from the
// simulator's: the first free numbers, health, license and the system parameters. Every other
// function answers the schema's default value (generic-xapi.ts). `undefined`: not computed here.
import type { SimContext } from '../sim-context.js'
import type { Row } from './odata-filter.js'
import type { ParamValues } from './function-params.js'
import type { XapiOperation } from './xapi-model-types.js'
import { firstFreeNumber } from './entity-store.js'
import { defaultRecord } from './schema-defaults.js'

type Compute = (ctx: SimContext, params: ParamValues, record: Row | null, body: unknown) => unknown

const firstFree = (from: number): Compute => (ctx) => ({ value: firstFreeNumber(ctx.directory, from) })

const COMPUTED: Readonly<Record<string, Compute>> = {
  '/Users/Pbx.GetFirstAvailableExtensionNumber()': firstFree(100),
  '/Queues/Pbx.GetFirstAvailableQueueNumber()': firstFree(800),
  '/RingGroups/Pbx.GetFirstAvailableRingGroupNumber()': firstFree(700),
  '/Receptionists/Pbx.GetFirstAvailableReceptionistNumber()': firstFree(900),
  '/Trunks/Pbx.GetFirstAvailableTrunkNumber()': firstFree(10000),
  '/SystemStatus/Pbx.SystemHealthStatus()': () => ({ ...defaultRecord('Pbx.SystemHealthStatus'), Firewall: true, Phones: true, Trunks: true }),
  '/Defs/Pbx.GetSystemParameters()': (ctx) => ({ ...defaultRecord('Pbx.SystemParameters'), FQDN: ctx.directory.system.FQDN, Version: ctx.directory.system.Version }),
  '/Trunks/Pbx.InitTrunk(template={template})': (ctx, params) => ({ ...defaultRecord('Pbx.Trunk'), Number: firstFreeNumber(ctx.directory, 10000), Gateway: { ...defaultRecord('Pbx.Gateway'), TemplateFilename: params.template } }),
  '/Fax/Pbx.InitFax()': (ctx) => ({ ...defaultRecord('Pbx.Fax'), Number: firstFreeNumber(ctx.directory, 888) })
}

/** The computed answer of a function (`null` for no content), or undefined when it is not computed. */
export function computedResult (ctx: SimContext, op: XapiOperation, params: ParamValues, record: Row | null, body: unknown): unknown {
  return COMPUTED[op.path]?.(ctx, params, record, body)
}
