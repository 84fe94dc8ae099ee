import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../lib/errors.js';
import { fixturesDir } from '../helpers/fixtures.js';

export const configFixture = (name: string): string => path.join(fixturesDir, 'config', name);
export const readFixture = (name: string): string => fs.readFileSync(configFixture(name), 'utf8');

/** Runs `fn`, expects a ConfigError and returns it. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}
