import type { CasDeps } from '../types.js';

/** TODO(#5): the application resource. */
export class ApplicationService {
  constructor(readonly deps: CasDeps) {}
}
