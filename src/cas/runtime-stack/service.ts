import type { CasDeps } from '../types.js';

/** TODO(#5): the runtime-stack resource. */
export class RuntimeStackService {
  constructor(readonly deps: CasDeps) {}
}
