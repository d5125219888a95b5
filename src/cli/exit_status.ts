// The CLI's exit statuses beyond 0: 1 for a failure that running the command again may get past (a server down, a
// peer of another version mid-upgrade), and EXIT_NO_RETRY for one it cannot, so that a supervisor stops restarting it.

/**
 * Running the command again cannot help: the config, a flag, a token or a certificate file refused; a worker's
 * backend that does not start on its machine (CUDA or cuDNN missing), data the machine lacks, a database that is not
 * its coordinator's; a study in which no trial completed, or one deleted under its run (run again, it would start a
 * new one). sysexits' EX_CONFIG; systemd stops restarting on it with `RestartPreventExitStatus=78`.
 */
export const EXIT_NO_RETRY = 78;

const STATUS = Symbol('exitStatus');

/** `f()`, with whatever it throws (or its promise rejects with) marked EXIT_NO_RETRY: for checks of what the user gave. */
export function noRetry<T>(f: () => T): T {
  const mark = (err: unknown): never => {
    throw withExitStatus(err, EXIT_NO_RETRY);
  };
  try {
    const out = f();
    return (out instanceof Promise ? out.catch(mark) : out) as T;
  } catch (err) {
    return mark(err);
  }
}

/** `err`, marked to end the process with `status` when nothing catches it. */
export function withExitStatus<E>(err: E, status: number): E {
  if (err !== null && typeof err === 'object') (err as Record<symbol, number>)[STATUS] = status;
  return err;
}

/** The exit status an uncaught error ends the CLI with: its mark, else 1. */
export function exitStatusOf(err: unknown): number {
  const status = err !== null && typeof err === 'object' ? (err as Record<symbol, unknown>)[STATUS] : undefined;
  return typeof status === 'number' ? status : 1;
}
