/**
 * `scseg`'s command line (main.ts runs it). Exit codes: 0 ok, 2 bad input or configuration (an output directory
 * holding results without --overwrite included), 1 internal error, 130 / 143 / 129 stopped by SIGINT / SIGTERM /
 * SIGHUP.
 */
import fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, InputError, ScsegError } from '../errors.js';
import { packageVersion } from '../segmentation/run-manifest.js';
import { WORKFLOW_NAMES, WORKFLOWS } from '../workflows/registry.js';
import { BatchFailedError } from './exit-errors.js';
import type { SegmentFlags } from './segment.js';
import { InterruptedError } from './signals.js';

// The commands' modules (config, kernels, readers, writers, ONNX Runtime) load when a command runs, not for
// `--version` or `--help`: Node's module loading is most of what a short command waits for.

const version = packageVersion();

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || value.trim() === '') throw new InvalidArgumentError('must be an integer ≥ 0');
  return n;
}

export function buildProgram(): Command {
  // exitOverride before the subcommands are made: they copy it (a usage error then exits 2, not commander's 1).
  const program = new Command('scseg')
    .exitOverride()
    .description('scPortrait segmentation (WGA, DAPI and Cellpose workflows) on native C++ / WebAssembly kernels and ONNX Runtime')
    .version(version, '-V, --version')
    .showHelpAfterError();

  program
    .command('segment')
    .description('segment an image (or a batch: --batch, a 4-D --input) and write segmentation.h5, classes.csv and a QC overlay to --output')
    .requiredOption('-c, --config <file>', 'scPortrait YAML config')
    .requiredOption('-w, --workflow <name>', `workflow (${WORKFLOW_NAMES.join(', ')})`)
    .option('-i, --input <file...>', 'CXY image (TIFF/OME-TIFF, OME-Zarr, HDF5, .npy), or one single-channel TIFF per channel; a 4-D (images, C, Y, X) HDF5/OME-Zarr/.npy runs a batch')
    .option('--batch <csv>', 'segment many images: a CSV with a header row, column name (results subfolder) and each image\'s channel file(s)')
    .requiredOption('-o, --output <dir>', 'results directory (created if missing)')
    .addOption(
      new Option('-b, --backend <backend>', 'kernel backend (default: $SCSEG_BACKEND, else auto)').choices(['native', 'wasm', 'auto']),
    )
    .option('-t, --threads <n>', 'in memory: kernel threads (default: $SCSEG_THREADS, else one per core, at most 8); sharded: shards in flight, the cores split among them (default: the config\'s threads, else 1); batch: images in flight, likewise', positiveInt)
    .option('--models <dir>', 'Cellpose: the folder holding the built-in models as <name>.onnx (default: $SCSEG_MODELS; a section\'s models_dir wins)')
    .option('--dataset <path>', 'HDF5 input: the dataset to read (default: channels, else the first 3-D dataset)')
    .option('--shard-size <pixels>', "shard the image into shards of at most this many pixels (overrides the config's shard_size)", positiveInt)
    .option('--overlap <pixels>', "pixels read around each shard (overrides the config's overlap_px; default 100)", nonNegativeInt)
    .option('--cache <dir>', 'sharded runs: where finished shards are kept for a resume (default: the config\'s cache, else <output>/.scseg-cache)')
    .option('--overwrite', 'replace the results already in --output (as a whole: no file of the earlier run stays); sharded runs: also discard a cache left by a run with other arguments', false)
    .option('--keep-cache', 'sharded runs: keep the cache after success', false)
    .addOption(new Option('-f, --format <format>', 'extra label output: zarr adds OME-Zarr labels').choices(['h5', 'zarr']).default('h5'))
    .option('--no-qc', 'do not write the QC overlay PNG')
    .option('-q, --quiet', 'no progress output', false)
    .option('--plan-only <file>', 'sharded runs: write the shard plan here and run the global pass only; then scseg shard --plan <file> --index I per shard and scseg stitch --plan <file>')
    .option('--distributed', 'sharded runs: run the shards on scseg worker processes through Redis (BullMQ; --redis)', false)
    .option('--redis <url>', 'with --distributed: redis[s]://[user:password@]host:port[/db] (default: $SCSEG_REDIS_URL; never printed)')
    .option('--prefix <name>', 'with --distributed: Redis key prefix of the runs (default scseg; the workers must use the same)')
    .option('--detach', 'with --distributed: return once the run is queued, printing its id (scseg status / wait RUN)', false)
    .action(async (flags: SegmentFlags & { planOnly?: string; distributed?: boolean }) => {
      if (flags.planOnly !== undefined || flags.distributed) return (await import('./shard-steps.js')).segmentSteps(flags);
      void (await import('./warm-worker.js')).warmSegmentWorker(flags); // boots while segment.js loads
      return (await import('./segment.js')).segment(flags);
    });

  program
    .command('shard')
    .description('run one shard of a plan (scseg segment … --plan-only): a Kubernetes Indexed Job / Slurm array task; a finished shard is not run again')
    .requiredOption('--plan <file>', 'the plan file')
    .option('--index <i>', 'the shard (0-based; default: $JOB_COMPLETION_INDEX, else $SLURM_ARRAY_TASK_ID)')
    .addOption(new Option('-b, --backend <backend>', 'kernel backend (default: the plan\'s, else $SCSEG_BACKEND, else auto)').choices(['native', 'wasm', 'auto']))
    .option('-t, --threads <n>', 'kernel threads (default: $SCSEG_THREADS, else one per core, at most 8)', positiveInt)
    .option('-q, --quiet', 'no progress output', false)
    .action(async (opts) => (await import('./shard-steps.js')).shardCommand(opts));

  program
    .command('stitch')
    .description("stitch a plan's finished shards into its results folder (segmentation.h5, classes.csv, run.json)")
    .requiredOption('--plan <file>', 'the plan file')
    .option('-q, --quiet', 'no progress output', false)
    .action(async (opts) => (await import('./shard-steps.js')).stitchCommand(opts));

  program
    .command('worker')
    .description('take shard and stitch jobs of distributed runs (scseg segment … --distributed) from Redis until stopped')
    .option('--redis <url>', 'redis[s]://[user:password@]host:port[/db] (default: $SCSEG_REDIS_URL; never printed)')
    .option('--prefix <name>', 'Redis key prefix of the runs (default scseg)')
    .option('--concurrency <n>', 'jobs in flight per run, each in its own child process (default 1)', positiveInt)
    .option('-t, --threads <n>', 'kernel threads per job (default: the cores divided by --concurrency)', positiveInt)
    .addOption(new Option('-b, --backend <backend>', 'kernel backend').choices(['native', 'wasm', 'auto']))
    .option('--data-root <dir...>', 'the only folders whose files jobs may read or write (default: the working directory)')
    .addOption(new Option('--lock-duration <ms>', 'a job whose worker stops renewing its lock this long is retried elsewhere').argParser(positiveInt).default(30000).hideHelp())
    .option('-q, --quiet', 'no log output', false)
    .action(async (opts) => (await import('./distributed.js')).workerCommand(opts));

  program
    .command('status')
    .description('print the state of a distributed run')
    .argument('<run>', 'the run id (scseg segment … --distributed --detach printed it), or its plan file')
    .option('--redis <url>', 'as for segment --distributed (default: $SCSEG_REDIS_URL)')
    .option('--prefix <name>', 'Redis key prefix of the runs (default scseg)')
    .action(async (run: string, opts) => (await import('./distributed.js')).statusCommand(run, opts));

  program
    .command('wait')
    .description('wait for a distributed run to finish; exit codes as segment (a run Redis lost is queued again from its plan)')
    .argument('<run>', 'the run id, or its plan file')
    .option('--redis <url>', 'as for segment --distributed (default: $SCSEG_REDIS_URL)')
    .option('--prefix <name>', 'Redis key prefix of the runs (default scseg)')
    .option('-q, --quiet', 'no progress output', false)
    .action(async (run: string, opts) => (await import('./distributed.js')).waitCommand(run, opts));

  program
    .command('demo')
    .description("segment scPortrait's example 3 (shipped with the package) with WGASegmentation and show where the results went")
    .option('-o, --output <dir>', 'results directory', 'scseg-demo')
    .addOption(new Option('-b, --backend <backend>', 'kernel backend').choices(['native', 'wasm', 'auto']))
    .option('-t, --threads <n>', 'kernel threads', positiveInt)
    .option('--overwrite', "replace results in --output that another command wrote (an earlier demo's are replaced anyway)", false)
    .option('-q, --quiet', 'no progress output', false)
    .action(async (opts) => (await import('./demo.js')).runDemo(opts));

  program
    .command('workflows')
    .description('list the workflows with the channels they read and the masks they write')
    .action(() => {
      for (const w of Object.values(WORKFLOWS)) {
        const status = w.available ? '' : '  (not available yet)';
        console.log(`${w.name}${status}\n  input channels: ${w.masks.join(', ')}\n  output masks:   ${w.masks.join(', ')}\n  ${w.description}`);
      }
    });

  program
    .command('validate-config')
    .description('check a config file for every workflow section it holds (or --workflow) and list all problems')
    .argument('<file>', 'scPortrait YAML config')
    .option('-w, --workflow <name>', 'validate only this workflow')
    .action(async (file: string, opts: { workflow?: string }) => {
      const { validateConfig, workflowSections } = await import('../config/index.js');
      const { workflowName } = await import('./segment.js');
      if (!fs.existsSync(file)) throw new InputError(`${file}: no such file`, 'ERR_SCSEG_IO_NOT_FOUND');
      const names = opts.workflow ? [workflowName(opts.workflow)] : workflowSections({ path: file });
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
    .action(async () => console.log((await import('../kernels/index.js')).activeBackend()));
  return program;
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof InterruptedError) return err.exitCode;
  if (err instanceof BatchFailedError) return err.exitCode;
  return err instanceof InputError || err instanceof ConfigError ? 2 : 1;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
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

