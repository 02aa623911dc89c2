/** Errors the admin routes answer with a status and a message meant for the person using the page. */

/** An error whose message is safe and useful to show (bad input, missing job, refused action). */
export class AdminHttpError extends Error {
  readonly statusCode: number
  /** The message to show on the error page. */
  readonly adminMessage: string

  constructor(statusCode: number, message: string) {
    super(message)
    this.name = 'AdminHttpError'
    this.statusCode = statusCode
    this.adminMessage = message
  }
}
