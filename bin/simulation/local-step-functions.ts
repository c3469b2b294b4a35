/**
 * What running a state machine locally with aws-local-stepfunctions needs, for the simulation and
 * the tests: importing this module installs `Promise.withResolvers`, which aws-local-stepfunctions
 * calls and Node 20 lacks (Node 22 has it), and `aslValidator` checks a definition.
 */
export { StateMachine } from 'aws-local-stepfunctions';

if (!('withResolvers' in Promise)) {
  Object.assign(Promise, {
    withResolvers<T>() {
      let resolve!: (value: T) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** asl-validator ships no types: its default export takes a definition and returns the findings. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const aslValidator = require('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errors: unknown[];
};
