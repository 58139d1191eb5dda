import t from 'tap'
import { legacyMethods } from '../../routes/legacy/index.js'
import { CONTROL_KEY, READ_KEY, startAppOnSimulator } from '../legacy/legacy-harness.js'

t.test('/docs documents every method with examples and error codes, and never a key', async (t) => {
  const gw = await startAppOnSimulator(t)
  const spec = (await gw.app.inject('/docs/json')).json()
  t.equal(spec.openapi, '3.0.3')
  t.same(Object.keys(spec.components.securitySchemes).sort(), ['apiKeyHeader', 'apiKeyQuery'])
  t.ok(legacyMethods.length > 0, 'there are legacy methods to check')
  for (const m of legacyMethods) {
    const op = spec.paths[`/${m.name}`]?.get
    t.ok(op, `${m.name} documented`)
    if (op === undefined) continue
    t.ok(op.summary, `${m.name} summary`)
    const ok = op.responses['200'].content['application/json']
    t.ok(ok.example ?? ok.examples, `${m.name} example response`)
    for (const code of ['400', '401', '403', '404', '429', '502', '503', '504']) t.ok(op.responses[code], `${m.name} ${code}`)
  }
  t.notOk(Object.keys(spec.paths).some((p) => p.startsWith('/webapi')), 'the key-in-path duplicates are described, not listed')
  t.ok(spec.paths['/info'], 'gateway info documented')
  t.match(spec.paths['/ext.queue.set'].get.description, /no per-queue login/)

  const pages = ['/docs', '/docs/', '/docs/json', '/docs/yaml', '/docs/static/index.html', '/docs/static/swagger-initializer.js']
  let served = 0
  for (const url of pages) {
    const r = await gw.app.inject(url)
    if (r.statusCode === 302) continue
    served++
    t.equal(r.statusCode, 200, url)
    t.notOk(r.body.includes(READ_KEY) || r.body.includes(CONTROL_KEY), `${url} holds no key`)
  }
  t.ok(served >= pages.length - 1, `the pages were served, not all redirected (${served} of ${pages.length})`)
})
