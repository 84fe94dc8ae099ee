#!/usr/bin/env node
/** `scseg` command line. Exit codes: 0 ok, 2 bad input or configuration, 1 internal error. */
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolveWorkflow, validateConfig, WORKFLOW_NAMES } from '../config/index.js';
import type { WorkflowAlias } from '../config/types.js';
import { ConfigError, InputError, ScsegError } from '../errors.js';
import { activeBackend } from '../kernels/index.js';
import { packageRoot } from '../paths.js';
import { Segmentation } from '../segmentation/segmentation.js';
import { WORKFLOW_INFO } from '../workflows/index.js';
import { createProgress } from './progress.js';

const version = (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function workflowName(value: string): WorkflowAlias {
  if (!resolveWorkflow(value)) {
    throw new InputError(`unknown workflow "${value}"; available: ${WORKFLOW_NAMES.join(', ')}`, 'ERR_SCSEG_WORKFLOW');
  }
  return value as WorkflowAlias;
}

interface SegmentFlags {
  config: string;
  workflow: string;
  input: string[];
  output: string;
  backend: 'native' | 'wasm' | 'auto';
  threads?: number;
  format: 'h5' | 'zarr';
  qc: boolean;
  quiet: boolean;
}

async function segmentCommand(flags: SegmentFlags): Promise<void> {
  const progress = createProgress({ quiet: flags.quiet, stages: 4 });
  progress.stage('loading config');
  const segmentation = await Segmentation.create({
    config: { path: flags.config },
    workflow: workflowName(flags.workflow),
    backend: flags.backend,
    log: (m) => progress.stage(m),
  });
  for (const w of segmentation.warnings) progress.warn(w);
  const result = await segmentation.run({
    input: flags.input,
    output: flags.output,
    zarr: flags.format === 'zarr',
    qc: flags.qc,
  });
  const seconds = Object.values(result.timings).reduce((a, b) => a + b, 0);
  progress.done(`${result.classes.length} cells, ${result.masks.length} mask(s) → ${flags.output} (${seconds.toFixed(2)} s of kernels)`);
}

export function buildProgram(): Command {
  const program = new Command('scseg')
    .description('scPortrait segmentation (WGA, DAPI, Cellpose workflows) on native C++ / WebAssembly kernels')
    .version(version, '-V, --version')
    .showHelpAfterError();

  program
    .command('segment')
    .description('segment an image and write segmentation.h5, classes.csv and a QC overlay to --output')
    .requiredOption('-c, --config <file>', 'scPortrait YAML config')
    .requiredOption('-w, --workflow <name>', `workflow (${WORKFLOW_NAMES.join(', ')})`)
    .requiredOption('-i, --input <file...>', 'CXY image (TIFF/OME-TIFF, OME-Zarr, HDF5, .npy), or one single-channel TIFF per channel')
    .requiredOption('-o, --output <dir>', 'results directory (created if missing)')
    .addOption(new Option('-b, --backend <backend>', 'kernel backend').choices(['native', 'wasm', 'auto']).default('auto'))
    .option('-t, --threads <n>', 'worker threads for sharded segmentation', positiveInt)
    .addOption(new Option('-f, --format <format>', 'extra label output: zarr adds OME-Zarr labels').choices(['h5', 'zarr']).default('h5'))
    .option('--no-qc', 'do not write the QC overlay PNG')
    .option('-q, --quiet', 'no progress output', false)
    .action(segmentCommand);

  program
    .command('workflows')
    .description('list the workflows with the channels they read and the masks they write')
    .action(() => {
      for (const w of WORKFLOW_INFO) {
        const status = w.available ? '' : '  (not yet available)';
        console.log(`${w.name}${status}\n  input channels: ${w.inputs.join(', ')}\n  output masks:   ${w.outputMasks.join(', ')}\n  ${w.description}`);
      }
    });

  program
    .command('validate-config')
    .description('check a config file for every workflow section it holds (or --workflow) and list all problems')
    .argument('<file>', 'scPortrait YAML config')
    .option('-w, --workflow <name>', 'validate only this workflow')
    .action((file: string, opts: { workflow?: string }) => {
      if (!fs.existsSync(file)) throw new InputError(`${file}: no such file`, 'ERR_SCSEG_IO_NOT_FOUND');
      const names = opts.workflow ? [workflowName(opts.workflow)] : WORKFLOW_NAMES.filter((n) => fileMentions(file, n));
      if (names.length === 0) throw new InputError(`${file}: holds no workflow section; pass --workflow`, 'ERR_SCSEG_CONFIG');
      const problems = [];
      for (const name of names) {
        const r = validateConfig({ path: file }, name);
        for (const w of r.warnings) console.error(`warning: ${w}`);
        problems.push(...r.problems);
        if (r.problems.length === 0) console.log(`${name}: ok`);
      }
      if (problems.length > 0) throw new ConfigError(problems);
    });

  program
    .command('backend')
    .description('print the kernel backend this process uses (native, or wasm as fallback; SCSEG_BACKEND forces one)')
    .action(() => console.log(activeBackend()));
  return program;
}

function fileMentions(file: string, workflow: string): boolean {
  const text = fs.readFileSync(file, 'utf8');
  return new RegExp(`^(Sharded|Multithreaded)?${workflow}\\s*:`, 'm').test(text);
}

export function exitCodeFor(err: unknown): number {
  return err instanceof InputError || err instanceof ConfigError ? 2 : 1;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      process.exitCode = 2; // commander already printed the usage error
      return;
    }
    const message = err instanceof ScsegError ? err.message : ((err as Error)?.stack ?? String(err));
    console.error(`scseg: ${message}`);
    process.exitCode = exitCodeFor(err);
  }
}

await main(process.argv);
