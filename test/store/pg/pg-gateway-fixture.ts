// What a whole gateway on PostgreSQL needs in a test: a throwaway database (and a pool on it to look
// into), the simulator, a webhook receiver, and the environment pointing at them; closed on teardown.
import pg from 'pg'
import type { Simulator } from '../../../src/sim/simulator.js'
import { pbxEnv, startSim } from '../../pbx/pbx-fixture.js'
import { startReceiver, type Receiver } from '../../webhooks/receiver.js'
import { testDatabase } from './pg-test-db.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface PgGatewayFixture { url: string, db: pg.Pool, sim: Simulator, receiver: Receiver, env: Record<string, string> }

export async function pgGatewayFixture (t: Teardown, key: string): Promise<PgGatewayFixture> {
  const url = await testDatabase(t)
  const db = new pg.Pool({ connectionString: url, max: 1 })
  t.teardown(async () => { await db.end() })
  const sim = await startSim(t)
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const env = {
    ...pbxEnv(sim.url), GATEWAY_KEYS: key, PORT: '0',
    RECORDINGS_SOURCE: 'off', CALL_END_GRACE_MS: '100', WEBHOOK_RETRY_SCHEDULE: '0,100ms,200ms', DATABASE_URL: url, WEBHOOK_URLS: receiver.url
  }
  return { url, db, sim, receiver, env }
}
