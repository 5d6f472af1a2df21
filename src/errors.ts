/**
 * Errors a user can act on. The CLI prints `message` as one line and exits with `exitCode`;
 * anything that is not an FxpqError is a bug and is reported as such.
 */
export class FxpqError extends Error {
  constructor(message: string, readonly exitCode: number = 1) {
    super(message);
    this.name = 'FxpqError';
  }
}

/** Exit code 2 is reserved for "the model uses something fxpq does not support". */
export class UnsupportedError extends FxpqError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UnsupportedError';
  }
}
