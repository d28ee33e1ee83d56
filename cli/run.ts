import { main } from './main.js';

// `kreplay export … | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

// The process entry point: the only place that sets the exit code. Setting process.exitCode instead of calling
// process.exit lets stdout drain when it is a pipe.
process.exitCode = await main(process.argv.slice(2));
