// `3cx-gateway sim --pbx FILE` and `sim snapshot` through the command line entry point.
import t from 'tap'
import { main } from '../../src/cli.js'

function io (): { io: { stdout: { write: (s: string) => boolean }, stderr: { write: (s: string) => boolean } }, err: () => string } {
  const err: string[] = []
  return { io: { stdout: { write: () => true }, stderr: { write: (s: string) => { err.push(s); return true } } }, err: () => err.join('') }
}

t.test('sim --pbx with a file that cannot be used stops with exit code 2', async (t) => {
  const c = io()
  t.equal(await main(['sim', '--port', '0', '--pbx', '/nonexistent/pbx.yaml'], c.io as never), 2)
  t.match(c.err(), /3cx-gateway sim: \/nonexistent\/pbx\.yaml: cannot be read/)
})

t.test('sim snapshot without a PBX prints its usage', async (t) => {
  const c = io()
  const saved = { url: process.env.PBX_URL }
  delete process.env.PBX_URL
  t.teardown(() => { if (saved.url !== undefined) process.env.PBX_URL = saved.url })
  t.equal(await main(['sim', 'snapshot'], c.io as never), 2)
  t.match(c.err(), /usage: 3cx-gateway sim snapshot --out FILE/)
})
