/** Exit codes are a contract with CI scripts: 0 ok, 1 findings at or above --fail-on, 2 usage or input error. */
export const ExitCode = {
  ok: 0,
  findings: 1,
  usage: 2,
  /** A bug or an environment failure kreplay cannot explain. */
  internal: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error the user can fix: says what was wrong, where, and what to do. The CLI root prints it without a stack
 * trace and exits 2.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: ExitCode = ExitCode.usage,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
