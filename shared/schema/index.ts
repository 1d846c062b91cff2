/*
 * Every table, for drizzle-kit (migrations) and tests. Each file is owned by one module (its
 * first line says which); server code imports the owner's file directly, never this index, and
 * dependency-cruiser refuses a module importing another module's file.
 */
export * from './admin';
export * from './auth';
export * from './catalogue';
export * from './crypto-rates';
export * from './email';
export * from './objects';
export * from './orders';
export * from './payments';
export * from './rate-limits';
export * from './realtime';
