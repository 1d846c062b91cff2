export * from './catalogue';
export * from './crypto';
export * from './messaging';
export * from './orders';
export * from './users';
