import { describe, expect, it } from 'vitest';
import { imageRuntime } from './image-runtime.js';

describe('imageRuntime', () => {
  it("reads the runtime stage's V8 flags and malloc settings, not the build stage's", () => {
    const runtime = imageRuntime(
      [
        'FROM node:20 AS build',
        'ENV NODE_OPTIONS="--build-only"',
        'ENV BUILD_ONLY=1',
        'FROM node:20-slim',
        'ENV NODE_ENV=production',
        'ENV NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=192"',
        'ENV MALLOC_ARENA_MAX=2',
        'ENTRYPOINT ["node", "--single-threaded", "/app/bin/kreplay.js"]',
      ].join('\n'),
    );
    expect(runtime).toEqual({ nodeArgs: ['--max-semi-space-size=4', '--max-old-space-size=192', '--single-threaded'], env: { NODE_ENV: 'production', MALLOC_ARENA_MAX: '2' } });
  });

  it('reads deploy/Dockerfile', () => {
    const runtime = imageRuntime();
    expect(runtime.nodeArgs.some((flag) => flag.startsWith('--max-old-space-size='))).toBe(true);
    expect(runtime.env).toHaveProperty('MALLOC_ARENA_MAX');
  });
});
