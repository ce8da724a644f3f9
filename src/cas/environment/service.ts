import type { CasDeps } from '../types.js';

/** TODO(#5): the environment resource. */
export class EnvironmentService {
  constructor(readonly deps: CasDeps) {}
}
