/** Row types of the cas-environment tables (TODO), touched only by that area's store. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CasEnvironmentTables {}
