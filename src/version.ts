import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from './util/paths.js';

/** The tool's version, from package.json: written into sidecars and reports, sent in the User-Agent. */
export const VERSION: string = (
  JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

export const USER_AGENT = `ecaf/${VERSION} (ECAF cross-age face dataset tool)`;
