// STUB — to be replaced. Keep the export name and options.
import type { FastifyInstance } from 'fastify'
import type { SimContext } from '../sim-context.js'

export async function controlPlugin (_app: FastifyInstance, _opts: { ctx: SimContext }): Promise<void> {}
