import t from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import pino from 'pino'
import type { FastifyBaseLogger } from 'fastify'
import { lazyChildLoggerFactory } from '../../src/request-logger.js'

function capture (level: string): { logger: FastifyBaseLogger, lines: () => Array<Record<string, unknown>> } {
  let text = ''
  const stream = new Writable({ write (chunk, _enc, cb) { text += String(chunk); cb() } })
  return {
    logger: pino({ level }, stream) as unknown as FastifyBaseLogger,
    lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  }
}

t.test('below info: the child is built only when a request logs, and carries the request id', async (t) => {
  const { logger, lines } = capture('warn')
  const children: unknown[] = []
  // The server's logger as the factory gets it, with its child() calls counted.
  const counted = (server: FastifyBaseLogger): FastifyBaseLogger => new Proxy(server, {
    get (target, prop, receiver) {
      if (prop === 'child') return (...args: Parameters<FastifyBaseLogger['child']>) => { children.push(args[0]); return target.child(...args) }
      return Reflect.get(target, prop, receiver) as unknown
    }
  })
  const app = Fastify({ loggerInstance: logger, childLoggerFactory: (server, bindings, opts) => lazyChildLoggerFactory(counted(server), bindings, opts) })
  app.get('/quiet', async (req) => { req.log.info('not shown'); req.log.debug('not shown'); return { ok: true } })
  app.get('/loud', async (req) => {
    req.log.warn({ n: 1 }, 'shown')
    req.log.error('also shown')
    t.equal(req.log.level, 'warn')
    t.equal((req.log as unknown as { isLevelEnabled: (l: string) => boolean }).isLevelEnabled('info'), false)
    req.log.child({ part: 'x' }).warn('from a grandchild')
    req.log.fatal('fatal')
    req.log.trace('no')
    req.log.silent('no')
    return { ok: true }
  })
  app.get('/level', async (req) => { req.log.level = 'debug'; req.log.debug('debug after raising the level'); return { ok: true } })
  t.teardown(async () => { await app.close() })
  t.equal((await app.inject({ url: '/quiet' })).statusCode, 200)
  t.equal(children.length, 0, 'no child built for a request that logged nothing')
  t.same(lines(), [])
  t.equal((await app.inject({ url: '/loud' })).statusCode, 200)
  t.equal(children.length, 1, 'one child for a request that logged')
  const shown = lines()
  t.same(shown.map((l) => l.msg), ['shown', 'also shown', 'from a grandchild', 'fatal'])
  t.ok(shown.every((l) => typeof l.reqId === 'string' && l.reqId === shown[0].reqId), 'every line has the request id')
  t.equal(shown[0].n, 1)
  t.equal(shown[2].part, 'x')
  await app.inject({ url: '/level' })
  t.same(lines().slice(4).map((l) => l.msg), ['debug after raising the level', 'request completed'], 'a level set on the request logger applies to it (Fastify then logs the request at info)')
  t.equal(logger.level, 'warn', 'the parent keeps its level')
})

t.test('info on (every request is logged), a route level, or no pino logger: a real child at once', async (t) => {
  const { logger, lines } = capture('info')
  const child = lazyChildLoggerFactory(logger, { reqId: 'r1' }, {})
  t.equal(child.constructor.name, logger.constructor.name)
  child.info('hello')
  t.equal(lines()[0].reqId, 'r1')
  const quiet = capture('warn').logger
  t.equal(lazyChildLoggerFactory(quiet, { reqId: 'r2' }, { level: 'debug' }).level, 'debug', 'a route log level builds the child')
  const bare = { child: () => bare, level: 'info', info () {}, error () {}, debug () {}, fatal () {}, warn () {}, trace () {}, silent () {} } as unknown as FastifyBaseLogger
  t.equal(lazyChildLoggerFactory(bare, { reqId: 'r3' }, {}), bare, 'a logger without isLevelEnabled: its own child')
})
