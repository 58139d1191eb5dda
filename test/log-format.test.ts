import t from 'tap'
import { Writable } from 'node:stream'
import pino from 'pino'
import { logDestination, resolveLogFormat } from '../src/log-format.js'

function sink (isTTY: boolean): { stream: Writable & { isTTY?: boolean }, text: () => string } {
  let text = ''
  const stream = Object.assign(new Writable({ write (c, _e, cb) { text += String(c); cb() } }), { isTTY })
  return { stream, text: () => text }
}

t.test('auto is pretty on a terminal and JSON otherwise; an explicit format wins', async (t) => {
  t.equal(resolveLogFormat('auto', true), 'pretty')
  t.equal(resolveLogFormat('auto', false), 'json')
  t.equal(resolveLogFormat('json', true), 'json')
  t.equal(resolveLogFormat('pretty', false), 'pretty')
})

t.test('json writes pino lines as they are; pretty writes readable ones', async (t) => {
  const raw = sink(false)
  t.equal(logDestination('auto', raw.stream), raw.stream, 'a pipe gets JSON, unchanged')
  t.equal(logDestination('json', undefined), undefined, 'pino\'s own stdout for JSON')

  const terminal = sink(true)
  const log = pino({ level: 'info' }, logDestination('auto', terminal.stream))
  log.info({ port: 8080 }, 'listening')
  await new Promise((resolve) => setImmediate(resolve))
  t.match(terminal.text(), /^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*: .*listening.*port.*8080.*\n$/, 'time, level, message, fields on one line')
  t.match(terminal.text(), /\u001b\[32mINFO/, 'in colour on a terminal')
  t.notMatch(terminal.text(), /"level":30/, 'not JSON')

  const piped = sink(false)
  pino(logDestination('pretty', piped.stream)).warn('disk almost full')
  await new Promise((resolve) => setImmediate(resolve))
  t.match(piped.text(), /WARN: disk almost full/)
  t.notMatch(piped.text(), /\u001b\[/, 'no colour codes when the output is not a terminal')
})
