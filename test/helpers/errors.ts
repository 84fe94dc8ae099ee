import { InputError } from '../../lib/errors.js';

function check(caught: unknown, code: string, fragments: readonly (string | RegExp)[]): InputError {
  expect(caught).toBeInstanceOf(InputError);
  const err = caught as InputError;
  expect(err.code).toBe(code);
  for (const f of fragments) expect(err.message).toMatch(f);
  return err;
}

/** Runs `call` and checks it throws an InputError with this code and a message matching every fragment. */
export function expectInputError(call: () => unknown, code: string, ...fragments: (string | RegExp)[]): void {
  let caught: unknown;
  try {
    call();
  } catch (err) {
    caught = err;
  }
  check(caught, code, fragments);
}

/** The same for a promise: it must reject with such an InputError. */
export async function expectInputErrorAsync(p: Promise<unknown>, code: string, ...fragments: (string | RegExp)[]): Promise<InputError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  return check(caught, code, fragments);
}
