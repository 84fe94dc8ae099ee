import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { exampleData, readPlanes, repoRoot } from './fixtures.js';
import { writeNpy } from './batch.js';

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

export interface PtyRun {
  /** The CLI's exit code (script -e passes it on), null if the wait timed out (the process was then killed). */
  status: number | null;
  /** Everything the terminal showed, escape sequences included. */
  output: string;
  /** Milliseconds from start to exit. */
  ms: number;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), as on a user's terminal: stdout and stderr are the
 * tty. `watch` sees the output so far each time it grows (and every 25 ms), and may type on the terminal (`type('\x03')` is Ctrl-C:
 * the terminal sends SIGINT to the process). Resolves when the CLI exits, or after `timeoutMs` (status null).
 */
export function scsegPty(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; watch?: (output: string, type: (keys: string) => void) => void; timeoutMs?: number } = {},
): Promise<PtyRun> {
  const command = [process.execPath, ...cliCommand(args)].map(quote).join(' ');
  const started = Date.now();
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const type = (keys: string) => child.stdin!.write(keys);
  const onData = (d: Buffer) => {
    output += d.toString();
    options.watch?.(output, type);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  // Also between outputs: a watch may wait on files rather than text.
  const poll = setInterval(() => options.watch?.(output, type), 25);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ status: null, output, ms: Date.now() - started });
    }, options.timeoutMs ?? 60_000);
    child.on('exit', (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ status: code, output, ms: Date.now() - started });
    });
  });
}

/** The terminal was given back: after the last "hide cursor" / "line wrap off" comes a "show" / "on". */
export function terminalRestored(output: string): boolean {
  const after = (off: string, on: string) => output.lastIndexOf(off) < output.lastIndexOf(on);
  return after('\x1b[?25l', '\x1b[?25h') && after('\x1b[?7l', '\x1b[?7h');
}

/** Every file under `dir` (hidden ones included) with its sha256: a folder's exact state, to compare before/after. */
export function snapshot(dir: string): Record<string, string> {
  const state: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath ?? (entry as { path: string }).path, entry.name);
    state[path.relative(dir, file)] = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  }
  return state;
}

/** The example's two channels tiled n×n into one (2, 400n, 400n) uint16 .npy: the same cells, n² times the work. */
export async function tiledExample(file: string, n: number): Promise<string> {
  const planes = await readPlanes(['Ch1.tif', 'Ch2.tif'].map((f) => path.join(exampleData, f)));
  const w = 400 * n;
  const data = new Uint16Array(2 * w * w);
  planes.forEach((p, c) => {
    for (let y = 0; y < w; y++) {
      for (let x = 0; x < w; x++) data[c * w * w + y * w + x] = p.data[(y % 400) * 400 + (x % 400)];
    }
  });
  return writeNpy(file, data, [2, w, w]);
}
