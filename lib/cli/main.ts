#!/usr/bin/env node
/** `scseg` command line. Exit codes: 0 ok, 2 bad input or configuration, 1 internal error. */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { ConfigError, InputError, ScsegError } from '../errors.js';
import { activeBackend } from '../kernels/index.js';
import { packageRoot } from '../paths.js';

const version = (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;

export function buildProgram(): Command {
  const program = new Command('scseg')
    .description('scPortrait segmentation (WGA, DAPI, Cellpose workflows) on native C++ / WebAssembly kernels')
    .version(version, '-V, --version')
    .showHelpAfterError();
  program
    .command('backend')
    .description('print the kernel backend this process uses (native, or wasm as fallback; SCSEG_BACKEND forces one)')
    .action(() => {
      console.log(activeBackend());
    });
  return program;
}

export function exitCodeFor(err: unknown): number {
  return err instanceof InputError || err instanceof ConfigError ? 2 : 1;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    const message = err instanceof ScsegError ? err.message : (err as Error)?.stack ?? String(err);
    console.error(`scseg: ${message}`);
    process.exitCode = exitCodeFor(err);
  }
}

await main(process.argv);
