export * from './records.js';
export * from './session.js';
export * from './findings.js';
export * from './objects.js';
export * from './redact.js';
export * from './check-config.js';
export * from './version-facts.js';
export * from './actors.js';
