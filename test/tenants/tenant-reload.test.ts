// TenantReloader's source status (shown on the front's /readyz, which answers without a key).
import t from 'tap'
import { TenantReloader, type TenantSource } from '../../src/tenants/tenant-reload.js'

t.test('a failed read is reported without a password the error carried, and cleared by the next good read', async (t) => {
  let fail = true
  const source: TenantSource = {
    describe: 'the tenants table',
    load: async () => { if (fail) throw new Error('connect failed for postgres://gateway:s3cret-pw@db:5432/gateway'); return [] },
    watch: async () => async () => {}
  }
  const quiet = { info: () => {}, warn: () => {}, error: () => {} }
  const r = new TenantReloader(source, async () => {}, quiet)
  t.same(r.status(), { source: 'the tenants table', ok: true })
  await r.reload()
  const s = r.status()
  t.equal(s.ok, false)
  t.notMatch(s.problem ?? '', /s3cret-pw/, 'no password')
  t.match(s.problem ?? '', /cannot read it: connect failed for postgres:\/\/gateway:\*\*\*@db/)
  fail = false
  await r.reload()
  t.same(r.status(), { source: 'the tenants table', ok: true })
})
