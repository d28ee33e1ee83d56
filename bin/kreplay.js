#!/usr/bin/env node
// Runs the compiled CLI (`npm ci` compiles it through the `prepare` script).
import('../dist/cli/run.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/run.js')) {
    console.error('kreplay: the CLI is not compiled yet. Run `npm run build` (npm ci does it for you).');
    process.exit(2);
  }
  throw error;
});
