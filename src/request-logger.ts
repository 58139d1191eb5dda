// Fastify gives every request a child logger carrying the request id. pino builds a child
// (serializes its bindings, sets up its level methods) even when nothing will be logged, as for
// most requests at LOG_LEVEL=warn. This factory hands out a stand-in that builds the child on the
// first call that would log; when `info` is on, Fastify logs every request anyway, so the child is
// built at once.
import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'pino'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
type Enabling = FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }

class LazyChildLogger {
  private built: Enabling | null = null

  constructor (private readonly parent: Enabling, private readonly bindings: Bindings) {}

  /** The real child logger, built once. */
  private real (): Enabling {
    this.built ??= this.parent.child(this.bindings) as Enabling
    return this.built
  }

  get level (): string { return (this.built ?? this.parent).level }
  set level (level: string) { this.real().level = level }

  isLevelEnabled (level: string): boolean {
    return (this.built ?? this.parent).isLevelEnabled?.(level) ?? true
  }

  child (bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, options)
  }

  fatal (...args: unknown[]): void { this.log('fatal', args) }
  error (...args: unknown[]): void { this.log('error', args) }
  warn (...args: unknown[]): void { this.log('warn', args) }
  info (...args: unknown[]): void { this.log('info', args) }
  debug (...args: unknown[]): void { this.log('debug', args) }
  trace (...args: unknown[]): void { this.log('trace', args) }
  silent (): void {}

  private log (level: Level, args: unknown[]): void {
    if (!this.isLevelEnabled(level)) return
    const real = this.real()
    ;(real[level] as (...a: unknown[]) => void).apply(real, args)
  }
}

/** Fastify's `childLoggerFactory`: a request's logger, built only when something is logged. */
export function lazyChildLoggerFactory (logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  const parent = logger as Enabling
  // A route's own level or serializers, a logger without levels, or `info` on (every request is
  // logged): nothing to save.
  if (opts.level !== undefined || opts.serializers !== undefined || typeof parent.isLevelEnabled !== 'function' || parent.isLevelEnabled('info')) {
    return logger.child(bindings, opts)
  }
  return new LazyChildLogger(parent, bindings) as unknown as FastifyBaseLogger
}
