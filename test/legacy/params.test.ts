import t from 'tap'
import {
  DN_PATTERN, ON_OFF_PATTERN, PHONE_PATTERN, RECORDING_PATTERN, findProfile, normalizeContact, normalizePhoneNumber, restoreLeadingPlus, parseOnOff, parseRecording, profileDisplayName
} from '../../src/legacy/params.js'

const PROFILES = [
  { Name: 'Available', CustomName: 'Available' },
  { Name: 'Away', CustomName: 'Away' },
  { Name: 'OutOfOffice', CustomName: 'Out of office' },
  { Name: 'Available2', CustomName: 'Custom 1' },
  { Name: 'OutOfOffice2', CustomName: 'Custom 2' }
]

t.test('DN numbers', async (t) => {
  const re = new RegExp(DN_PATTERN)
  for (const ok of ['101', 'HOL', 'QCB', '*55', '#1', '+1', '12345678901234567890']) t.ok(re.test(ok), ok)
  for (const bad of ['', '123456789012345678901', "1'", '1 0', '../1', '１０１', '1%00']) t.notOk(re.test(bad), bad)
})

t.test('on/off values, any case', async (t) => {
  const re = new RegExp(ON_OFF_PATTERN)
  for (const v of ['on', 'ON', 'Off', '1', '0', 'TRUE', 'false']) t.ok(re.test(v), v)
  for (const v of ['', 'yes', 'onn', 'o']) t.notOk(re.test(v), v)
  t.equal(parseOnOff('On'), true)
  t.equal(parseOnOff('1'), true)
  t.equal(parseOnOff('TRUE'), true)
  t.equal(parseOnOff('off'), false)
  t.equal(parseOnOff('0'), false)
  t.equal(parseOnOff('False'), false)
})

t.test('recording modes', async (t) => {
  const re = new RegExp(RECORDING_PATTERN)
  for (const v of ['off', 'External', 'ALL']) t.ok(re.test(v), v)
  t.notOk(re.test('some'))
  t.equal(parseRecording('External'), 'external')
})

t.test('phone numbers: separators stripped, + only in front', async (t) => {
  const re = new RegExp(PHONE_PATTERN)
  t.ok(re.test('+1 (555) 987-0000'))
  t.notOk(re.test('+1555abc'))
  t.equal(normalizePhoneNumber('+1 (555) 987-0000'), '+15559870000')
  t.equal(normalizePhoneNumber('555.123/45'), '55512345')
  t.equal(normalizePhoneNumber('*55#'), '*55#')
  t.equal(normalizePhoneNumber('1+2'), null)
  t.equal(normalizePhoneNumber(' - '), null)
  // ?second=+15559870000 unencoded arrives as " 15559870000": the + is kept, not dropped.
  t.equal(normalizePhoneNumber(' 15559870000'), '+15559870000')
  t.equal(normalizePhoneNumber(' 1 555 987 0000'), '+15559870000')
  t.equal(normalizePhoneNumber('  15559870000'), '15559870000', 'only one leading space is a decoded +')
})

t.test('contact: a leading + is kept, a + inside is refused with the %2B hint', async (t) => {
  t.same(normalizeContact('sip:101@pbx'), { contact: 'sip:101@pbx' })
  t.same(normalizeContact(' 4930123@pbx'), { contact: '+4930123@pbx' })
  t.match(normalizeContact('sip: 4930@pbx'), { problem: /contains a space: an unencoded "\+" in a URL query means a space, so send a "\+" inside a device id as %2B/ })
  t.equal(restoreLeadingPlus('101'), '101')
})

t.test('profile names: English, display and internal names, any case and spacing', async (t) => {
  const cases: Array<[string, string]> = [
    ['Available', 'Available'], ['away', 'Away'], ['Out of office', 'OutOfOffice'], ['OUTOFOFFICE', 'OutOfOffice'],
    ['out_of_office', 'OutOfOffice'], ['Custom 1', 'Available2'], ['available2', 'Available2'], ['custom 2', 'OutOfOffice2'],
    ['OutOfOffice2', 'OutOfOffice2']
  ]
  for (const [input, name] of cases) t.equal(findProfile(input, PROFILES)?.Name, name, input)
  t.equal(findProfile('Lunch', PROFILES), null)
  t.equal(findProfile('Lunch', [...PROFILES, { Name: 'Available2', CustomName: 'Lunch' }])?.Name, 'Available2', 'PBX display names count')
})

t.test('profile display names', async (t) => {
  t.equal(profileDisplayName({ Name: 'OutOfOffice', CustomName: '' }), 'Out of office')
  t.equal(profileDisplayName({ Name: 'Available2', CustomName: null }), 'Custom 1')
  t.equal(profileDisplayName({ Name: 'Available2', CustomName: 'Lunch' }), 'Lunch')
  t.equal(profileDisplayName({ Name: 'Weird' }), 'Weird')
})
