// One HTTP/1.1 request written on a raw socket, as a client without an HTTP library sends it: header
// lines exactly as given, the request side then closed (half-close, as `printf … | nc` does).
import { connect } from 'node:net'

export interface RawAnswer { status: number, body: string, text: string }

/** Sends `GET path` with `headerLines` to 127.0.0.1:port, half-closes, and reads until the server closes. */
export async function rawGet (port: number, path: string, headerLines: readonly string[], timeoutMs = 10_000): Promise<RawAnswer> {
  const socket = connect(port, '127.0.0.1')
  socket.end([`GET ${path} HTTP/1.1`, 'Host: gw', ...headerLines, '', ''].join('\r\n'))
  const timer = setTimeout(() => { socket.destroy(new Error(`no answer to GET ${path} within ${timeoutMs} ms`)) }, timeoutMs)
  let text = ''
  try {
    for await (const chunk of socket) text += String(chunk)
  } finally {
    clearTimeout(timer)
  }
  return { status: Number(text.split(' ')[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4), text }
}
