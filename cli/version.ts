// One place reads package.json; the CLI re-exports it for --version and session metadata.
export { toolVersion } from '../store/tool-version.js';
