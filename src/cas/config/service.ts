import type { CasDeps } from '../types.js';

/** TODO(#5): the config resource. */
export class ConfigService {
  constructor(readonly deps: CasDeps) {}
}
