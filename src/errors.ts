/**
 * Errors a user can act on. The CLI prints `message` as one line and exits with `exitCode`;
 * anything that is not an FxpqError is a bug and is reported as such.
 */
export class FxpqError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
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

/**
 * The machine, not the input, is at fault (no space, no permission, a read-only or busy path): the
 * user's fix is to the environment. Exit code 74 (sysexits' EX_IOERR), distinct from bugs (70).
 */
export const ENV_EXIT = 74;
/** Another fxpq process holds the output; trying again later may work (sysexits' EX_TEMPFAIL). */
export const BUSY_EXIT = 75;

export class EnvironmentError extends FxpqError {
  constructor(message: string) {
    super(message, ENV_EXIT);
    this.name = 'EnvironmentError';
  }
}

export class BusyError extends FxpqError {
  constructor(message: string) {
    super(message, BUSY_EXIT);
    this.name = 'BusyError';
  }
}

const OS_MESSAGES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EBUSY: 'resource busy',
  EEXIST: 'already exists',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder',
  ENOENT: 'no such file or folder',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENAMETOOLONG: 'name too long',
  EIO: 'input/output error',
  ENOTEMPTY: 'folder not empty',
  EXDEV: 'cannot move across file systems',
  ELOOP: 'too many symbolic links',
  ENOMEM: 'out of memory',
  ETXTBSY: 'text file busy',
  EAGAIN: 'resource temporarily unavailable',
};

/** A Node.js system error (errno code plus syscall), as fs and child_process throw them. */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException & { code: string } {
  return (
    e instanceof Error &&
    typeof (e as NodeJS.ErrnoException).code === 'string' &&
    /^E[A-Z0-9]+$/.test((e as NodeJS.ErrnoException).code!) &&
    typeof (e as NodeJS.ErrnoException).syscall === 'string'
  );
}

/** One line for an OS error: what was done, to which path, and the system's reason with its code. */
export function environmentError(e: NodeJS.ErrnoException & { code: string }): EnvironmentError {
  const dest = (e as { dest?: string }).dest;
  const what = e.path ? `${e.syscall} ${e.path}${dest ? ` -> ${dest}` : ''}` : e.syscall!;
  return new EnvironmentError(`${what}: ${OS_MESSAGES[e.code] ?? 'system error'} (${e.code})`);
}
