// The command line's output streams when the reader goes away. `mirosnet --help | head -1`
// closes the pipe after one line; the next write fails with EPIPE, which Node raises as an
// unhandled 'error' event (a stack trace and status 1). A closed pipe means nobody wants the
// rest: stop writing and exit with the status the command had so far (0 unless it failed),
// so `set -o pipefail` sees the command succeed.
let installed = false;

/** Idempotent: the CLI and every scenario script (a child of `mirosnet scenario`, or run alone) call it. */
export function exitQuietlyWhenTheReaderLeaves(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
  }
}
