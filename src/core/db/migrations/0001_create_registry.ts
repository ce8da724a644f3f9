import type { Kysely } from 'kysely';

/** Registry tables: services, schemas, instances and dependency rules (servicecomb.md §1). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('registry_services')
    .addColumn('tenant', 'varchar(300)', (c) => c.notNull())
    .addColumn('service_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('environment', 'varchar(32)', (c) => c.notNull())
    .addColumn('app_id', 'varchar(160)', (c) => c.notNull())
    .addColumn('service_name', 'varchar(300)', (c) => c.notNull())
    .addColumn('version', 'varchar(64)', (c) => c.notNull())
    .addColumn('alias', 'varchar(128)', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('registry_services_pk', ['tenant', 'service_id'])
    .addUniqueConstraint('registry_services_key', ['tenant', 'environment', 'app_id', 'service_name', 'version'])
    .execute();
  await db.schema
    .createTable('registry_schemas')
    .addColumn('tenant', 'varchar(300)', (c) => c.notNull())
    .addColumn('service_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('schema_id', 'varchar(160)', (c) => c.notNull())
    .addColumn('summary', 'varchar(128)', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('registry_schemas_pk', ['tenant', 'service_id', 'schema_id'])
    .execute();
  await db.schema
    .createTable('registry_instances')
    .addColumn('tenant', 'varchar(300)', (c) => c.notNull())
    .addColumn('service_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('instance_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('ttl_seconds', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('registry_instances_pk', ['tenant', 'service_id', 'instance_id'])
    .execute();
  await db.schema
    .createTable('registry_dependencies')
    .addColumn('tenant', 'varchar(300)', (c) => c.notNull())
    .addColumn('consumer_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('environment', 'varchar(32)', (c) => c.notNull())
    .addColumn('app_id', 'varchar(160)', (c) => c.notNull())
    .addColumn('service_name', 'varchar(300)', (c) => c.notNull())
    .addColumn('version_rule', 'varchar(140)', (c) => c.notNull())
    .addPrimaryKeyConstraint('registry_dependencies_pk', ['tenant', 'consumer_id', 'environment', 'app_id', 'service_name'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['registry_dependencies', 'registry_instances', 'registry_schemas', 'registry_services']) {
    await db.schema.dropTable(table).execute();
  }
}
