// A port that cannot be bound is reported in one sentence naming the port and the setting to
// change, before anything else starts (a second `serve` must not run a simulator or write into the
// database of the first one), instead of an EADDRINUSE stack trace.
import { createServer } from 'node:net'

/** The gateway (or the simulator) cannot listen where it was told to; `message` says what to change. */
/**
 * The address a server listening on `host` and its bound `port` is reached at, as logged and as the
 * base of recording links without PUBLIC_URL: an any-address host shown as 127.0.0.1, IPv6 in brackets.
 */
export function listeningUrl (host: string, port: number, tls: boolean): string {
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return `${tls ? 'https' : 'http'}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`
}

export class ListenError extends Error {
  override name = 'ListenError'
}

/** A listen error as a ListenError naming `host:port` and `setting`, or null for other errors. */
export function describeListenError (err: unknown, host: string, port: number, setting: string): ListenError | null {
  const code = (err as NodeJS.ErrnoException | null)?.code
  const where = `port ${port} on ${host}`
  switch (code) {
    case 'EADDRINUSE':
      return new ListenError(`${where} is already in use (another gateway or simulator still running?); stop that program or set ${setting} to a free port`)
    case 'EACCES':
      return new ListenError(`${where} needs privileges this user does not have; set ${setting} to a port above 1023 (or put a reverse proxy in front)`)
    case 'EADDRNOTAVAIL':
      return new ListenError(`${host} is not an address of this machine, so ${where} cannot be opened; set HOST to one of its addresses, or 0.0.0.0 for all`)
    default:
      return null
  }
}

/** Binds `host:port` once and lets go; throws a ListenError when that is not possible. Port 0 always succeeds. */
export async function assertPortFree (host: string, port: number, setting: string): Promise<void> {
  if (port === 0) return
  await new Promise<void>((resolve, reject) => {
    const probe = createServer()
    probe.once('error', (err) => { reject(describeListenError(err, host, port, setting) ?? err) })
    probe.listen({ host, port, exclusive: true }, () => { probe.close(() => { resolve() }) })
  })
}
