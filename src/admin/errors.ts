/** Errors the admin routes answer with a status, a stable code and a message meant for the person or program asking. */

/** Default codes by status, for errors raised without one. */
const CODE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  503: 'UNAVAILABLE',
}

/** An error whose message is safe and useful to show (bad input, missing job, refused action). */
export class AdminHttpError extends Error {
  readonly statusCode: number
  /** Stable machine-readable code, the same on the HTML pages and in the JSON API. */
  readonly code: string
  /** The message to show on the error page. */
  readonly adminMessage: string
  /** Extra facts for the JSON API's `error.details` (never internals). */
  readonly details: unknown

  constructor(statusCode: number, message: string, code?: string, details?: unknown) {
    super(message)
    this.name = 'AdminHttpError'
    this.statusCode = statusCode
    this.code = code ?? CODE_BY_STATUS[statusCode] ?? 'ERROR'
    this.adminMessage = message
    this.details = details
  }
}
