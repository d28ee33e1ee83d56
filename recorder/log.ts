/**
 * Log lines for people and for grep: `<time> <level> <message> key=value ...` on stderr (logfmt-ish; values with
 * spaces are quoted). The recorder never logs object bodies or tokens.
 */
export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];

export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  with(fields: LogFields): Logger;
}

function formatValue(value: string | number | boolean | null): string {
  const text = String(value);
  return text === '' || /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

export function formatLine(time: string, level: LogLevel, message: string, fields: LogFields): string {
  const pairs = Object.entries(fields)
    .filter((entry): entry is [string, string | number | boolean | null] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  return `${time} ${level.padEnd(5)} ${message}${pairs.length ? ` ${pairs.join(' ')}` : ''}\n`;
}

export function createLogger(options: { level?: LogLevel; write?: (line: string) => void; now?: () => number; fields?: LogFields } = {}): Logger {
  const threshold = logLevels.indexOf(options.level ?? 'info');
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? Date.now;
  const base = options.fields ?? {};
  const emit = (level: LogLevel) => (message: string, fields: LogFields = {}) => {
    if (logLevels.indexOf(level) < threshold) return;
    write(formatLine(new Date(now()).toISOString(), level, message, { ...base, ...fields }));
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    with: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

export const silentLogger: Logger = createLogger({ write: () => undefined, level: 'error' });
