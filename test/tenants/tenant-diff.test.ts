// diffTenants: what a reload changes (tenant-diff.ts), pure.
import t from 'tap'
import { describeDiff, diffTenants, isEmptyDiff } from '../../src/tenants/tenant-diff.js'
import type { TenantDefinition } from '../../src/tenants/tenants-file.js'

const tenant = (id: string, over: Partial<TenantDefinition> = {}): TenantDefinition => ({
  id,
  pbx: { url: `https://${id}.example`, clientId: '599', clientSecret: 'secret-of-' + id },
  keys: [{ key: `${id}-key-0123456789abcdef`, scope: 'control' }],
  webhooks: [{ name: 'crm', url: 'https://crm.example/hook', format: 'json', eventNames: 'legacy', secrets: [], events: [], extensions: [], didRules: [] }],
  ...over
})
const ids = (l: TenantDefinition[]): string[] => l.map((d) => d.id)

t.test('the same tenants (in another order, fields in another order): nothing to do', async (t) => {
  const a = tenant('acme')
  const reordered: TenantDefinition = { webhooks: a.webhooks, keys: a.keys, id: 'acme', pbx: { clientSecret: a.pbx.clientSecret, url: a.pbx.url, clientId: '599' } }
  const d = diffTenants([a, tenant('beta')], [tenant('beta'), reordered])
  t.ok(isEmptyDiff(d))
  t.equal(describeDiff(d), '')
})

t.test('added and removed tenants', async (t) => {
  const d = diffTenants([tenant('acme'), tenant('beta')], [tenant('beta'), tenant('gamma')])
  t.same(ids(d.added), ['gamma'])
  t.same(d.removed, ['acme'])
  t.same(d.rebuilt, [])
  t.same(d.rekeyed, [])
  t.equal(describeDiff(d), 'added: gamma; removed: acme')
})

t.test('changed PBX credentials, time zone, webhooks or recordings: rebuilt (keys changing too does not matter)', async (t) => {
  const a = tenant('acme')
  const changes: TenantDefinition[] = [
    { ...a, pbx: { ...a.pbx, clientSecret: 'rotated-secret' } },
    { ...a, pbx: { ...a.pbx, url: 'https://other.example' } },
    { ...a, pbx: { ...a.pbx, clientId: '600' } },
    { ...a, pbx: { ...a.pbx, timezone: 'Europe/Berlin' } },
    { ...a, webhooks: [] },
    { ...a, webhooks: [{ ...a.webhooks[0], url: 'https://crm.example/other' }] },
    { ...a, recordings: 'off' },
    { ...a, pbx: { ...a.pbx, clientSecret: 'x' }, keys: [{ key: 'another-key-0123456789', scope: 'read' }] }
  ]
  for (const changed of changes) {
    const d = diffTenants([a, tenant('beta')], [changed, tenant('beta')])
    t.same(ids(d.rebuilt), ['acme'], JSON.stringify(changed).slice(0, 80))
    t.same([d.added, d.removed, d.rekeyed], [[], [], []])
  }
})

t.test('keys only (rotated, added, re-scoped, by digest): updated in place', async (t) => {
  const a = tenant('acme')
  const byDigest = (sha256: string): TenantDefinition => ({ ...a, keys: [{ key: '', sha256, scope: 'control' }] })
  const cases: Array<[TenantDefinition, TenantDefinition]> = [
    [a, { ...a, keys: [{ key: 'acme-key-rotated-0123456789', scope: 'control' }] }],
    [a, { ...a, keys: [...a.keys, { key: 'acme-read-0123456789abcdef', scope: 'read' }] }],
    [a, { ...a, keys: [{ ...a.keys[0], scope: 'read' }] }],
    [byDigest('aa'), byDigest('bb')]
  ]
  for (const [before, after] of cases) {
    const d = diffTenants([before], [after])
    t.same(ids(d.rekeyed), ['acme'])
    t.same([d.added, d.removed, d.rebuilt], [[], [], []])
    t.equal(describeDiff(d), 'keys changed: acme')
  }
  t.ok(isEmptyDiff(diffTenants([byDigest('aa')], [byDigest('aa')])), 'the same digest: unchanged')
  const two = { ...a, keys: [{ key: 'k1-0123456789abcdef', scope: 'control' as const }, { key: 'k2-0123456789abcdef', scope: 'read' as const }] }
  t.ok(isEmptyDiff(diffTenants([two], [{ ...two, keys: [...two.keys].reverse() }])), 'keys in another order: unchanged')
})

t.test('the description names ids only, never a key or secret', async (t) => {
  const a = tenant('acme')
  const text = describeDiff(diffTenants([a, tenant('beta')], [{ ...a, pbx: { ...a.pbx, clientSecret: 'new-secret' } }, { ...tenant('beta'), keys: [{ key: 'beta-new-key-0123456789', scope: 'control' }] }, tenant('gamma')]))
  t.equal(text, 'added: gamma; rebuilt: acme; keys changed: beta')
  t.notMatch(text, /secret|key-/)
})
