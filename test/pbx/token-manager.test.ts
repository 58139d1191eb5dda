import t from 'tap'
import { PBX } from '../sim/pbx-under-test.js'
import { clientsFor, localServer, startSim, until } from './pbx-fixture.js'
import { jwtClaims, tokenLifetimeMs } from '../../src/pbx/token-manager.js'
import { PbxError } from '../../src/pbx/pbx-api.js'
import { FakeClock } from '../fake-clock.js'

const jwt = (claims: object): string => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`

t.test('lifetime: JWT exp first, else expires_in in seconds or (below 300) minutes', async (t) => {
  const now = 1_000_000_000_000
  t.equal(tokenLifetimeMs({ access_token: jwt({ exp: now / 1000 + 120 }), expires_in: 3600 }, now), 120_000)
  t.equal(tokenLifetimeMs({ access_token: jwt({ iat: 1, exp: 61 }), expires_in: 3600 }, now), 60_000, 'skewed clock: exp - iat')
  t.equal(tokenLifetimeMs({ access_token: 'opaque', expires_in: 3600 }, now), 3_600_000)
  t.equal(tokenLifetimeMs({ access_token: 'opaque', expires_in: 60 }, now), 3_600_000, '60 = minutes before 20.0.9')
  t.equal(tokenLifetimeMs({ access_token: 'opaque', expires_in: '600' }, now), 600_000)
  t.equal(tokenLifetimeMs({ access_token: 'opaque' }, now), 1_800_000)
  t.equal(jwtClaims('a.b'), null)
  t.equal(jwtClaims('a.%%%.c'), null)
})

t.test('50 concurrent callers share one token request', async (t) => {
  const sim = await startSim(t)
  const { tokens } = clientsFor(t, sim.url)
  t.notOk(tokens.valid)
  const got = await Promise.all(Array.from({ length: 50 }, async () => await tokens.getToken()))
  t.equal(new Set(got).size, 1)
  t.equal(sim.ctx.auth.issued.get(PBX.clientId), 1)
  t.ok(tokens.valid)
  t.equal(await tokens.getToken(), got[0], 'held token reused')
  t.equal(sim.ctx.auth.issued.get(PBX.clientId), 1)
})

t.test('a short-lived token is renewed at ~80 % of its lifetime', async (t) => {
  const sim = await startSim(t, { auth: { lifetimeS: 2 } })
  const clock = new FakeClock(Date.now()) // the simulator's JWTs carry real expiry times
  const { tokens, xapi } = clientsFor(t, sim.url, {}, { clock })
  const first = await tokens.getToken()
  // Issued up to the real time that went by since the fake clock's start (a loaded run: 11 ms).
  const took = Date.now() - clock.now()
  const expiry = tokens.expiry ?? 0
  const claims = jwtClaims(first) as { exp: number }
  t.equal(expiry, claims.exp * 1000, 'expiry taken from the JWT')
  const lifetime = expiry - clock.now()
  t.ok(lifetime > 1000 && lifetime <= 2000 + took, `about two seconds (${lifetime} ms)`)
  await clock.advance(Math.ceil(lifetime * 0.8) - 1)
  t.equal(await tokens.getToken(), first, 'held until 80 % of its lifetime')
  t.ok(tokens.valid)
  await clock.advance(1)
  const second = await tokens.getToken()
  t.not(second, first)
  t.equal(sim.ctx.auth.issued.get(PBX.clientId), 2)
  // The renewed token works: an unknown XAPI path gets past the bearer check to a 404.
  await t.rejects(xapi.get('NoSuchEntitySet'), { code: 'PBX_NOT_FOUND' })
  t.equal(sim.ctx.requestLog.at(-1)?.status, 404)
})

t.test('expires_in in minutes (3CX before 20.0.9)', async (t) => {
  const sim = await startSim(t, { auth: { lifetimeS: 3600, expiresInUnit: 'minutes' } })
  const { tokens } = clientsFor(t, sim.url)
  await tokens.getToken()
  const left = (tokens.expiry ?? 0) - Date.now()
  t.ok(left > 3_590_000 && left <= 3_600_000, `about an hour left (${left} ms)`)
})

t.test('a token without exp uses expires_in; minutes when below 300', async (t) => {
  let requests = 0
  let form = ''
  const { url } = await localServer(t, (req, res) => {
    requests++
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      form = body
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ token_type: 'Bearer', expires_in: 60, access_token: 'opaque-token', refresh_token: null }))
    })
  })
  const { tokens } = clientsFor(t, url)
  t.equal(await tokens.getToken(), 'opaque-token')
  const left = (tokens.expiry ?? 0) - Date.now()
  t.ok(left > 3_590_000 && left <= 3_600_000, `60 read as minutes (${left} ms)`)
  t.equal(requests, 1)
  const params = new URLSearchParams(form)
  t.same([params.get('grant_type'), params.get('client_id'), params.get('client_secret')], ['client_credentials', PBX.clientId, PBX.secret])
})

t.test('a 401 (revoked token) leads to exactly one refresh however many requests saw it', async (t) => {
  const sim = await startSim(t)
  const { tokens, xapi } = clientsFor(t, sim.url)
  await tokens.getToken()
  sim.ctx.faults.apply({ revokeTokens: true })
  const results = await Promise.allSettled(Array.from({ length: 20 }, async () => await xapi.get('NoSuchEntitySet')))
  t.ok(results.every((r) => r.status === 'rejected' && (r.reason as PbxError).code === 'PBX_NOT_FOUND'), 'every request got past auth after the refresh')
  t.equal(sim.ctx.auth.issued.get(PBX.clientId), 2)
  t.equal(sim.ctx.requestLog.filter((r) => r.status === 401).length, 20)
})

t.test('wrong credentials: PBX_AUTH_FAILED naming the settings, never the secret', async (t) => {
  const sim = await startSim(t)
  const { tokens } = clientsFor(t, sim.url, { clientSecret: 'wrong-secret-xyz' })
  const err = await tokens.getToken().catch((e: unknown) => e) as PbxError
  t.ok(err instanceof PbxError)
  t.same([err.code, err.status, err.pbxStatus], ['PBX_AUTH_FAILED', 502, 401])
  t.match(err.message, /PBX_CLIENT_ID and PBX_CLIENT_SECRET \(Admin > Integrations > API/)
  t.notMatch(err.message, /wrong-secret-xyz/)
  t.notOk(tokens.valid)
})

t.test('a host without /connect/token is not a 3CX V20 PBX', async (t) => {
  const { url } = await localServer(t, (req, res) => {
    res.statusCode = req.url === '/connect/token' ? 404 : 200
    res.end()
  })
  const { tokens } = clientsFor(t, url)
  await t.rejects(tokens.getToken(), { code: 'PBX_ERROR', pbxStatus: 404, message: /not a 3CX V20 PBX/ })
})

t.test('a 200 without an access token is an error, not a crash', async (t) => {
  const { url } = await localServer(t, (_req, res) => { res.end('<html>hello</html>') })
  const { tokens } = clientsFor(t, url)
  await t.rejects(tokens.getToken(), { code: 'PBX_ERROR', message: /without an access token/ })
})

t.test('invalidate is a no-op for an old token', async (t) => {
  const sim = await startSim(t)
  const { tokens } = clientsFor(t, sim.url)
  const a = await tokens.getToken()
  tokens.invalidate('some-older-token')
  t.equal(await tokens.getToken(), a)
  tokens.invalidate(a)
  t.not(await tokens.getToken(), a)
  await until(() => sim.ctx.auth.issued.get(PBX.clientId) === 2, 1000, 'second token')
})
