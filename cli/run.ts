import { main } from './main.js';

// The process entry point: the only place that sets the exit code. Setting process.exitCode instead of calling
// process.exit lets stdout drain when it is a pipe.
process.exitCode = await main(process.argv.slice(2));
