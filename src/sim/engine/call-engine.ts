// STUB — replaced by the call engine (owner: simulator engine work). Keep the exported surface.
import type { SimContext } from '../sim-context.js'
import type { SimCallRecord } from '../sim-types.js'

export interface CallEngineOptions { ctx: SimContext }

export class CallEngine {
  constructor (readonly options: CallEngineOptions) {}
  /** Every call the engine has played or is playing, oldest first. */
  records (): readonly SimCallRecord[] { return [] }
  reset (): void {}
  stop (): void {}
}
