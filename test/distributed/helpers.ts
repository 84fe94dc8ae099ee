/**
 * What the distributed tests share: a private redis-server (127.0.0.1, a free port, no persistence, a temp dir,
 * stopped afterwards), `scseg worker` processes in their own process groups (a SIGKILL to the group is a machine
 * lost: the worker and its job processes), and the reference result of a single-machine sharded run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { cliCommand } from '../helpers/cli.js';
import { repoRoot } from '../helpers/fixtures.js';

/** redis-server on PATH; without it the tests skip, unless SCSEG_REQUIRE_REDIS=1 (CI), where they fail. */
export const redisAvailable: boolean = (() => {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
  if (!found && process.env.SCSEG_REQUIRE_REDIS === '1') throw new Error('SCSEG_REQUIRE_REDIS=1 but redis-server is not installed (Debian: apt-get install redis-server)');
  return found;
})();

/** `describe` when redis-server is installed; else a skipped block saying what to install. */
export function describeIfRedis(name: string, fn: () => void): void {
  if (redisAvailable) describe(name, fn);
  else describe.skip(name, () => it.skip('needs redis-server (Debian: apt-get install redis-server); SCSEG_REQUIRE_REDIS=1 makes this a failure', () => {}));
}

if (!redisAvailable && typeof describe !== 'undefined') console.warn('test/distributed: redis-server is not installed: the BullMQ tests are skipped (apt-get install redis-server)');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => (c.end(), resolve(true)));
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} within ${ms} ms`);
    await sleep(50);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RedisServer {
  private child: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    readonly password: string,
    readonly dir: string,
  ) {}

  static async start(password: string): Promise<RedisServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-redis-'));
    const server = new RedisServer(await freePort(), password, dir);
    await server.up();
    return server;
  }

  /** The URL with the password, percent-encoded. */
  get url(): string {
    return `redis://:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/0`;
  }

  async up(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', this.password, '--dir', this.dir],
      { stdio: 'ignore' },
    );
    await waitForPort(this.port);
  }

  /** Stops it outright (everything it held is gone: no persistence). */
  async down(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    this.child = undefined;
  }

  async stop(): Promise<void> {
    await this.down();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A `scseg worker` in its own process group; its log collected. */
export class WorkerProcess {
  log = '';
  readonly exited: Promise<number | null>;
  private constructor(readonly child: ChildProcess) {
    child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static start(args: string[], env: NodeJS.ProcessEnv = {}): WorkerProcess {
    const child = spawn(process.execPath, cliCommand(['worker', ...args]), {
      cwd: repoRoot,
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new WorkerProcess(child);
  }

  /** The worker and its job processes, at once (a machine lost). */
  killGroup(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.killGroup(), 10_000);
    await this.exited;
    clearTimeout(timer);
    this.killGroup(); // any job process left behind
  }
}

/** Waits until `test()` holds, polling every 20 ms; throws naming `what` after `ms`. */
export async function until(test: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export function shardFiles(cache: string): string[] {
  return fs.existsSync(cache) ? fs.readdirSync(cache).filter((f) => /^shard-\d+\.bin$/.test(f)).sort() : [];
}
