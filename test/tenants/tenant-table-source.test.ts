// The tenants table as a source: read again on its notification (follow), and on SIGHUP as TENANTS_FILE
// is (`systemctl reload`); before, a gateway serving the table's tenants had no SIGHUP listener and exited.
import t from 'tap'
import { tenantsTableSource } from '../../src/tenants/tenant-reload.js'
import type { TenantsTable } from '../../src/tenants/tenants-table.js'

t.test('SIGHUP reads the tenants table again; after the watch stops it does nothing', async (t) => {
  let closed = false
  const table = { list: async () => [], follow: async () => async () => {}, close: async () => { closed = true } } as unknown as TenantsTable
  const source = tenantsTableSource(table, 60_000, {})
  let changes = 0
  const listenersBefore = process.listenerCount('SIGHUP')
  const stop = await source.watch(() => { changes++ })
  t.equal(process.listenerCount('SIGHUP'), listenersBefore + 1, 'a SIGHUP listener while watching (without one, Node exits on SIGHUP)')
  process.emit('SIGHUP')
  t.equal(changes, 1, 'SIGHUP: the table is read again')
  await stop()
  t.equal(process.listenerCount('SIGHUP'), listenersBefore, 'the listener is removed')
  // tap's signal-exit re-raises a signal nobody else listens to: a listener of the test's own meanwhile.
  const keep = (): void => {}
  process.on('SIGHUP', keep)
  process.emit('SIGHUP')
  process.off('SIGHUP', keep)
  t.equal(changes, 1, 'not after the watch stopped')
  t.ok(closed, 'the table closed with the watch')
})
