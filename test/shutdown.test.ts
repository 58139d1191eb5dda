// The bounded shutdown's rules on fake time (test/shutdown-deadline.test.ts runs them in a real
// process with a real hang): a stop that finishes in time exits with its code; one that does not is
// cut short after the budget with one line naming the steps still running; a second signal exits at once.
import t from 'tap'
import { boundedShutdown, describeRunning, drainBudget, StepTracker } from '../src/shutdown.js'
import { FakeClock, settle } from './fake-clock.js'

function rig (close: (steps: StepTracker) => Promise<void>, budgetMs = 8000): { clock: FakeClock, exits: number[], lines: Array<{ level: string, obj: object, msg: string }>, begin: (code: number) => void } {
  const clock = new FakeClock()
  const exits: number[] = []
  const lines: Array<{ level: string, obj: object, msg: string }> = []
  const steps = new StepTracker()
  const log = { info: (obj: object, msg: string) => { lines.push({ level: 'info', obj, msg }) }, error: (obj: object, msg: string) => { lines.push({ level: 'error', obj, msg }) } }
  const shutdown = boundedShutdown({ close: async () => { await close(steps) }, steps, budgetMs, log, exit: (code) => { exits.push(code) }, clock })
  return { clock, exits, lines, begin: shutdown.begin }
}

const never = new Promise<void>(() => {})

t.test('steps that finish in time: the exit code asked for, no error line', async (t) => {
  const r = rig(async (steps) => { await steps.run('webhook deliveries', async () => {}); await steps.run('database pool', () => {}) })
  r.begin(0)
  await settle()
  t.same(r.exits, [0])
  await r.clock.advance(10_000)
  t.same(r.exits, [0], 'the deadline was cleared')
  t.same(r.lines, [])
})

t.test('a step that hangs: after the budget one error line names it (tenants: with their prefix), exit 1', async (t) => {
  const r = rig(async (steps) => {
    await steps.run('webhook deliveries', async () => {})
    await Promise.all([steps.scoped('tenant acme').run('database pool', async () => { await never }), steps.scoped('tenant beta').run('stream lease', async () => { await never })])
  }, 2000)
  r.begin(0)
  await r.clock.advance(1999)
  t.same(r.exits, [], 'not before the budget')
  await r.clock.advance(1)
  t.same(r.exits, [1])
  t.equal(r.lines.length, 1)
  t.match(r.lines[0], { level: 'error', obj: { running: ['tenant acme: database pool', 'tenant beta: stream lease'], budgetMs: 2000 } })
  t.match(r.lines[0].msg, /^shutdown steps 'tenant acme: database pool', 'tenant beta: stream lease' still running after 2000 ms \(SHUTDOWN_TIMEOUT_MS\): exiting with code 1 .*stay in the outbox/)
})

t.test('a stop that fails: "shutdown failed", exit 1', async (t) => {
  const r = rig(async (steps) => { await steps.run('outbox', async () => { throw new Error('disk gone') }) })
  r.begin(0)
  await settle()
  t.same(r.exits, [1])
  t.match(r.lines, [{ level: 'error', msg: 'shutdown failed' }])
})

t.test('the names: one step, several, none; the drain budget leaves a quarter for closing', async (t) => {
  t.equal(describeRunning(['database pool']), 'shutdown step \'database pool\' still running')
  t.equal(describeRunning(['a', 'b']), 'shutdown steps \'a\', \'b\' still running')
  t.equal(describeRunning([]), 'shutdown still running')
  t.equal(drainBudget(8000), 6000)
  t.equal(drainBudget(1001), 750)
})
