// The OData error every XAPI failure answers with (Pbx.ODataErrors.ODataError), thrown by the pure
// query/path/function layers and turned into a response by the plugin's error handler.

export class ODataError extends Error {
  constructor (readonly statusCode: number, readonly code: string, message: string) {
    super(message)
    this.name = 'ODataError'
  }
}

export interface ODataErrorBody {
  error: { code: string, message: string, target: null, details: never[] }
}

export function odataErrorBody (code: string, message: string): ODataErrorBody {
  return { error: { code, message, target: null, details: [] } }
}

export const badQuery = (message: string): ODataError => new ODataError(400, 'BadRequest', message)
export const notFound = (message: string): ODataError => new ODataError(404, 'NotFound', message)
