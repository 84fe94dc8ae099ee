import { InputError } from '../../lib/errors.js';

/** Runs `call` and checks it throws an InputError with this code and a message matching `message`. */
export function expectInputError(call: () => unknown, code: string, message: RegExp): void {
  let caught: unknown;
  try {
    call();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InputError);
  expect((caught as InputError).code).toBe(code);
  expect((caught as Error).message).toMatch(message);
}
