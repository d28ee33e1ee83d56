/**
 * A benchmark's numeric setting from the environment: `fallback` when unset or empty, and an error naming the
 * variable when it is set to anything but a positive number (a typo must not silently measure the default).
 */
export function benchNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${JSON.stringify(raw)}: expected a positive number (unset: ${fallback})`);
  return value;
}
