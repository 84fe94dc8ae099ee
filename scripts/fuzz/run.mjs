#!/usr/bin/env node
// npm run fuzz [-- --seconds N] [--targets a,b] [--merge]
//
// Builds the libFuzzer targets (scripts/fuzz/build.sh: ASan + UBSan, native/fuzz/<target>.cpp) and runs each for
// its share of the time budget (--seconds, else SCSEG_FUZZ_SECONDS, else 60; split evenly over the targets),
// starting from the committed corpus test/fuzz/corpus/<target>/ (read only) plus the inputs earlier runs found
// (build/fuzz/corpus/<target>/). Prints the executions per target and exits 1 on any finding — a sanitizer
// report, a failed invariant, a crash, a timeout or an out-of-memory — with the reproducer's path and the log.
// --merge then minimises the committed corpus with what the runs found (libFuzzer -merge=1); commit the result.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = join(root, 'build/fuzz');

function parseArgs(argv) {
  const opts = { seconds: Number(process.env.SCSEG_FUZZ_SECONDS ?? 60), targets: null, merge: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seconds') opts.seconds = Number(argv[++i]);
    else if (a.startsWith('--seconds=')) opts.seconds = Number(a.slice('--seconds='.length));
    else if (a === '--targets') opts.targets = argv[++i].split(',').filter(Boolean);
    else if (a.startsWith('--targets=')) opts.targets = a.slice('--targets='.length).split(',').filter(Boolean);
    else if (a === '--merge') opts.merge = true;
    else {
      console.error(`unknown argument ${a}\nusage: npm run fuzz [-- --seconds N] [--targets a,b] [--merge]`);
      process.exit(2);
    }
  }
  if (!Number.isFinite(opts.seconds) || opts.seconds <= 0) {
    console.error('--seconds (or SCSEG_FUZZ_SECONDS) must be a positive number');
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const all = readdirSync(join(root, 'native/fuzz'))
  .filter((f) => f.endsWith('.cpp'))
  .map((f) => f.slice(0, -4))
  .sort();
const targets = opts.targets ?? all;
for (const t of targets) {
  if (!all.includes(t)) {
    console.error(`no fuzz target ${t} (have: ${all.join(', ')})`);
    process.exit(2);
  }
}

const build = spawnSync(join(root, 'scripts/fuzz/build.sh'), targets, { stdio: 'inherit' });
if (build.status !== 0) {
  console.error('fuzz build failed (needs clang++-19 and libclang-rt-19-dev)');
  process.exit(1);
}

// Every target's inputs stay small (fast executions); the harnesses repeat bytes to fill large images.
const MAX_LEN = 4096;
const perTarget = Math.max(1, Math.floor(opts.seconds / targets.length));
const env = {
  ...process.env,
  ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ? process.env.ASAN_OPTIONS + ':' : ''}abort_on_error=1:detect_leaks=1`,
  UBSAN_OPTIONS: `${process.env.UBSAN_OPTIONS ? process.env.UBSAN_OPTIONS + ':' : ''}print_stacktrace=1:halt_on_error=1`,
};

function runTarget(t) {
  const work = join(out, 'corpus', t);
  const seeds = join(root, 'test/fuzz/corpus', t);
  const artifacts = join(out, 'artifacts');
  const logs = join(out, 'logs');
  for (const d of [work, artifacts, logs]) mkdirSync(d, { recursive: true });
  const args = [
    `-max_total_time=${perTarget}`,
    `-max_len=${MAX_LEN}`,
    '-timeout=30',
    '-rss_limit_mb=3072',
    '-print_final_stats=1',
    `-artifact_prefix=${artifacts}/${t}-`,
    work,
  ];
  if (existsSync(seeds)) args.push(seeds);
  return new Promise((done) => {
    const started = Date.now();
    const child = spawn(join(out, t), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (b) => (log += b));
    child.stderr.on('data', (b) => (log += b));
    child.on('close', (code, signal) => {
      const logFile = join(logs, `${t}.log`);
      writeFileSync(logFile, log);
      const execs = Number(/stat::number_of_executed_units:\s*(\d+)/.exec(log)?.[1] ?? NaN);
      const artifact = /Test unit written to (\S+)/.exec(log)?.[1];
      done({ t, code, signal, execs, seconds: (Date.now() - started) / 1000, logFile, artifact, log });
    });
  });
}

console.log(`fuzzing ${targets.length} target(s), ${perTarget} s each (ASan + UBSan)`);
const results = [];
for (const t of targets) {
  const r = await runTarget(t);
  results.push(r);
  const ok = r.code === 0;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${t.padEnd(20)} ${String(Number.isNaN(r.execs) ? '?' : r.execs).padStart(10)} execs` +
      `  ${r.seconds.toFixed(0).padStart(4)} s${ok ? '' : `  exit ${r.code ?? r.signal}, log ${r.logFile}`}`,
  );
  if (!ok) {
    const report = r.log.split('\n').filter((l) => /ERROR|runtime error|invariant|SUMMARY|==\d+==|#\d+ 0x/.test(l));
    console.log(report.slice(0, 40).map((l) => `     ${l}`).join('\n'));
    if (r.artifact) console.log(`     reproduce: build/fuzz/${t} ${r.artifact}`);
  }
}
const total = results.reduce((s, r) => s + (Number.isNaN(r.execs) ? 0 : r.execs), 0);
const failed = results.filter((r) => r.code !== 0);
console.log(`total ${total} executions in ${(results.reduce((s, r) => s + r.seconds, 0) / 60).toFixed(1)} min; ` +
  `${failed.length ? `${failed.length} target(s) with findings: ${failed.map((r) => r.t).join(', ')}` : 'no findings'}`);

if (opts.merge && failed.length === 0) {
  for (const t of targets) {
    const seeds = join(root, 'test/fuzz/corpus', t);
    mkdirSync(seeds, { recursive: true });
    // set_cover_merge keeps a small set of inputs with the same features (the committed corpus stays small).
    const m = spawnSync(join(out, t), ['-set_cover_merge=1', `-max_len=${MAX_LEN}`, seeds, join(out, 'corpus', t)], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const files = readdirSync(seeds).length;
    console.log(`merged ${t}: ${files} corpus files${m.status === 0 ? '' : ` (merge exit ${m.status})`}`);
    if (m.status !== 0) process.exitCode = 1;
  }
}
if (failed.length) process.exit(1);
