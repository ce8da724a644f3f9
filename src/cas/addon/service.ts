import type { CasDeps } from '../types.js';

/** TODO(#5): the addon resource. */
export class AddonService {
  constructor(readonly deps: CasDeps) {}
}
