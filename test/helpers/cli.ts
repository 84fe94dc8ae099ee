import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './fixtures.js';

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The node arguments that start the CLI: the build `npm test` makes of lib/ just before the tests
 * (SCSEG_TEST_CLI, the bin users run), else the TypeScript sources through tsx (a bare `jest` run).
 */
export function cliCommand(args: string[]): string[] {
  const built = process.env.SCSEG_TEST_CLI;
  return built ? [built, ...args] : ['--import', 'tsx', path.join(repoRoot, 'lib/cli/main.ts'), ...args];
}

/** Runs the scseg CLI in a child process, as a user would run the binary. */
export function scseg(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const r = spawnSync(process.execPath, cliCommand(args), {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
