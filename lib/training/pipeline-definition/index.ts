export * from './expressions';
export * from './steps';
export * from './definition';
export * from './argument-shapes';
