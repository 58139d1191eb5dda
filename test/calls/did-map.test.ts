// DID rule inference and legacy call ids (pure), plus the loader against the simulator's XAPI.
import t from 'tap'
import { DidMap, DidMapLoader, parseInboundRules } from '../../src/calls/did-map.js'
import { chainId, legacyCallId, legacyTimePrefix, parseLegacyCallId } from '../../src/calls/legacy-call-id.js'
import { callTitle, minutesSeconds, recordingEvent } from '../../src/calls/call-events.js'
import { startSim, clientsFor } from '../pbx/pbx-fixture.js'
import { PBX } from '../sim/pbx-under-test.js'

t.test('rules: by (trunk, destination) when party_did is empty, by (trunk, DID) when given', async (t) => {
  const map = new DidMap(parseInboundRules([
    { RuleName: 'Sales line', Data: '+15550101', TrunkDN: { Number: '10000' }, OfficeHoursDestination: { Number: '800' }, OutOfOfficeHoursDestination: { Number: '801' } },
    { RuleName: 'Other trunk', Data: '+15550199', TrunkDN: { Number: '10001' }, OfficeHoursDestination: { Number: '800' } },
    { RuleName: 'Mask', Data: '+1555020x', TrunkDN: { Number: '10000' }, OfficeHoursDestination: { Number: '700' } },
    { RuleName: '', Data: 'x' },
    null
  ]))
  t.equal(map.rules.length, 3)
  t.equal(map.lookup({ trunkDn: '10000', did: '', firstDestination: '800' }), 'Sales line')
  t.equal(map.lookup({ trunkDn: '10001', did: '', firstDestination: '800' }), 'Other trunk')
  t.equal(map.lookup({ trunkDn: '10000', did: '', firstDestination: '801' }), 'Sales line', 'out-of-office destination')
  t.equal(map.lookup({ trunkDn: '10000', did: '15550101', firstDestination: '' }), 'Sales line', 'DID digits compare')
  t.equal(map.lookup({ trunkDn: '10000', did: '+15550207', firstDestination: '' }), 'Mask')
  t.equal(map.lookup({ trunkDn: '10000', did: '+19999', firstDestination: '555', fallback: '+19999' }), '+19999', 'fallback: the dialled number')
  t.equal(map.lookup({ trunkDn: '10000', did: '', firstDestination: '555' }), '')
})

t.test('loader reads InboundRules from the simulator', async (t) => {
  const sim = await startSim(t)
  const { xapi } = clientsFor(t, sim.url)
  const loader = new DidMapLoader({ xapi, refreshMs: 60_000 })
  await loader.start()
  t.teardown(() => { loader.stop() })
  // The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
  const [trunk, ivr, direct] = ['10000', '900', '102'].map((n) => PBX.n(n))
  t.equal(loader.lookup({ trunkDn: trunk, did: '', firstDestination: ivr }), PBX.didTo(ivr).name, 'Main line on the default PBX')
  t.equal(loader.lookup({ trunkDn: trunk, did: '', firstDestination: direct }), PBX.didTo(direct).name, 'Direct 102 on the default PBX')
  t.equal(loader.current().rules.length, PBX.definition.dids?.length, 'one rule per DID (five on the default PBX)')
})

t.test('loader keeps working when XAPI is unreachable', async (t) => {
  const warnings: unknown[] = []
  const loader = new DidMapLoader({ xapi: { list: async () => { throw new Error('down') } } as never, log: { warn: (o) => warnings.push(o) } })
  await loader.start()
  loader.stop()
  t.equal(warnings.length, 1)
  t.equal(loader.lookup({ trunkDn: '10000', did: '', firstDestination: '800' }), '')
})

t.test('legacy call ids', async (t) => {
  const at = Date.UTC(2021, 6, 1, 16, 56, 49)
  t.equal(legacyTimePrefix(at, 'UTC'), '210701165649')
  t.equal(legacyTimePrefix(at, 'America/New_York'), '210701125649')
  t.equal(legacyTimePrefix(Date.UTC(2021, 0, 1, 0, 0, 5), 'Asia/Tokyo'), '210101090005', 'no "24" hour')
  const chid = chainId('210701165649', 698)
  t.equal(legacyCallId(chid, 2), '210701165649_698-2')
  t.same(parseLegacyCallId('210701165649_698-2'), { chid, prefix: '210701165649', callid: 698, link: 2 })
  t.equal(parseLegacyCallId('nope'), null)
})

t.test('the UTC prefix (worked out without Intl) is what Intl formats in Etc/UTC', async (t) => {
  const instants = [Date.UTC(2000, 0, 1, 0, 0, 0), Date.UTC(2009, 11, 31, 23, 59, 59, 999), Date.UTC(2024, 1, 29, 9, 5, 7), Date.UTC(2099, 11, 31, 23, 59, 59)]
  for (let i = 0; i < 200; i++) instants.push(Date.UTC(2000, 0, 1) + Math.floor(Math.random() * 100 * 365.25 * 86_400_000))
  const wrong = instants.filter((at) => legacyTimePrefix(at, 'UTC') !== legacyTimePrefix(at, 'Etc/UTC'))
  t.same(wrong.map((at) => new Date(at).toISOString()), [])
})

t.test('titles and recording payloads', async (t) => {
  t.equal(minutesSeconds(65), '1:05')
  t.equal(minutesSeconds(3725), '62:05')
  t.equal(callTitle({ direction: 'inbound', did: 'Main line', callerid: '+1', finishtype: 'Missed', transfer: false, seconds: 32, missedAt: { dn: '800', usertype: 'queue', dnType: 'Wqueue' }, callbackRequested: true }),
    'Main line: missed call in queue 800 from +1, callback requested (0:32)')
  t.equal(callTitle({ direction: 'outbound', did: '', callerid: '+2', finishtype: 'Missed', transfer: false, seconds: 20 }), 'Unanswered outgoing call to +2 (0:20)')
  t.equal(callTitle({ direction: 'internal', did: '', callerid: '101', finishtype: 'Ok', transfer: true, seconds: 3 }), 'Answered internal call from 101, transferred (0:03)')
  const ended = { event: 'incoming' as const, callerid: '+1', user: '101', did: 'Sales line', finishtype: 'Ok' as const, transfer: 'false' as const, title: 't', duration: 65, id: 'X_1-1', chid: 'X_1', timestamp: '2026-01-01T00:00:00.000Z', callername: 'Ann' }
  const short = recordingEvent({ legacyId: 'X_1-1', chid: 'X_1', files: ['https://a/X_1-1-1.mp3'], ended, fullInfo: false, at: 0 })
  t.same(short.payload, { event: 'recording', id: 'X_1-1', chid: 'X_1', timestamp: '1970-01-01T00:00:00.000Z', FILES: ['https://a/X_1-1-1.mp3'], callername: 'Ann' })
  t.match(short, { type: 'recording', user: '101', did: 'Sales line', chain: 'X_1' })
  const full = recordingEvent({ legacyId: 'X_1-1', chid: 'X_1', files: ['f'], ended, fullInfo: true, at: 0 })
  t.match(full.payload, { event: 'recording', finishtype: 'Ok', duration: 65, user: '101', FILES: ['f'], timestamp: '1970-01-01T00:00:00.000Z' })
})
