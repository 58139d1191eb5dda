// A client that half-closes its side after the request (`printf 'GET …' | nc`, some embedded HTTP
// stacks) still gets its answer. Node's HTTP server otherwise drops a request it has not answered yet
// when the client's side ends, so every method that waits on the PBX (ext.info.get, makecall…)
// answered nothing while the cached ones answered. Node keeps this switch as a property of the
// server, not an option; with it on, the connection is ended after the last answer.

/** Makes an HTTP(S) server answer requests whose client has half-closed the connection. */
export function answerHalfClosedClients (server: object): void {
  Object.assign(server, { httpAllowHalfOpen: true })
}
