import t from 'tap'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { applyLegacyIni, iniToEnv, parseIni } from '../src/legacy-ini.js'
import { loadConfig } from '../src/config.js'

const INI = `; TCXWebAPI.ini from the legacy product
[General]
WEBHOOK_URL=https://crm.example.com/a
WEBHOOK_URL_2 = "https://crm.example.com/b"
WEBHOOK_POST_URL=https://crm.example.com/recordings
POST=1
RECORDING_FULL_INFO=1
HUBSPOT_MONITOR=https://mirror.example.com/hub
NOT_A_URL_MONITOR=yes
`

t.test('legacy settings map onto gateway variables', async (t) => {
  const env = iniToEnv(parseIni(INI))
  t.same(env, {
    WEBHOOK_URLS: 'https://crm.example.com/a,https://crm.example.com/b,https://mirror.example.com/hub',
    WEBHOOK_RECORDING_URLS: 'https://crm.example.com/recordings',
    WEBHOOK_FORMAT: 'form',
    RECORDING_FULL_INFO: '1'
  })
  t.equal(iniToEnv(parseIni('POST=0')).WEBHOOK_FORMAT, 'get')
})

t.test('CONFIG_INI fills what the environment leaves unset and the result validates', async (t) => {
  const dir = t.testdir({})
  const file = path.join(dir, 'TCXWebAPI.ini')
  writeFileSync(file, INI)
  const env = applyLegacyIni({ CONFIG_INI: file, WEBHOOK_FORMAT: 'json' })
  t.equal(env.WEBHOOK_FORMAT, 'json', 'the environment wins')
  const c = loadConfig(env)
  t.equal(c.webhooks.targets.length, 4)
  t.equal(c.webhooks.recordingFullInfo, true)
  t.same(applyLegacyIni({ A: '1' }), { A: '1' }, 'no CONFIG_INI: unchanged')
  t.throws(() => applyLegacyIni({ CONFIG_INI: path.join(dir, 'missing.ini') }), /CONFIG_INI: cannot read/)
})
