#!/usr/bin/env node
// npm run test:sanitize [-- --leaks] [jest paths…]   (default paths: test/kernels)
//
// Builds the N-API addon with AddressSanitizer + UndefinedBehaviorSanitizer (clang++-19, the same sources and
// defines as CMakeLists.txt, -O1 -g) into build/sanitize/scseg_kernels.node and runs jest on the native backend
// against it (SCSEG_NATIVE_PATH), node started with the ASan runtime preloaded. Any ASan report or undefined
// behaviour aborts the test process, so the run fails.
//
// --leaks: LeakSanitizer instead of ASan's exit-time silence. node itself leaks at exit (and so does V8), so every
// process writes its leak report to build/sanitize/lsan.<pid>, and a leak counts only when one of its allocation
// stacks passes through the addon (a frame in native/ or node-addon-api's napi-inl.h, or the module itself; checked
// against a deliberately leaking addon). Then also runs one full workflow through the CLI (WGASegmentation on
// data/example3, --backend native) under the same check.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const leaks = args.includes('--leaks');
const paths = args.filter((a) => a !== '--leaks');
const outDir = join(root, 'build/sanitize');
const addon = join(outDir, 'scseg_kernels.node');
const CXX = process.env.CXX_SANITIZE ?? 'clang++-19';

// ---- build -------------------------------------------------------------------------------------------------
function newestSource() {
  const walk = (d) =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? (e.name === 'fuzz' ? [] : walk(join(d, e.name))) : /\.(hpp|cpp)$/.test(e.name) ? [join(d, e.name)] : [],
    );
  return Math.max(...walk(join(root, 'native')).map((f) => statSync(f).mtimeMs));
}
mkdirSync(outDir, { recursive: true });
if (!existsSync(addon) || statSync(addon).mtimeMs < newestSource()) {
  const sources = readdirSync(join(root, 'native/binding'))
    .filter((f) => f.endsWith('.cpp'))
    .map((f) => join(root, 'native/binding', f));
  const flags = [
    '-std=c++17', '-O1', '-g', '-fno-omit-frame-pointer', '-ffp-contract=off', '-fPIC', '-shared', '-pthread',
    '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-shared-libsan',
    '-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED', '-DBUILDING_NODE_EXTENSION',
    `-I${require('node-api-headers').include_dir}`, `-I${resolve(root, require('node-addon-api').include_dir)}`,
  ];
  console.log(`building ${addon} (ASan + UBSan)`);
  const b = spawnSync(CXX, [...flags, ...sources, '-o', `${addon}.tmp`], { stdio: 'inherit' });
  if (b.status !== 0) {
    console.error(`sanitizer build failed (needs ${CXX} and libclang-rt-19-dev)`);
    process.exit(1);
  }
  rmSync(addon, { force: true });
  spawnSync('mv', [`${addon}.tmp`, addon]);
}

// ---- run ---------------------------------------------------------------------------------------------------
const runtime = spawnSync('clang-19', ['-print-file-name=libclang_rt.asan-x86_64.so'], { encoding: 'utf8' }).stdout.trim();
if (!existsSync(runtime)) {
  console.error(`ASan runtime not found (${runtime}); apt-get install libclang-rt-19-dev`);
  process.exit(1);
}
const lsanPrefix = join(outDir, 'lsan');
for (const f of readdirSync(outDir)) if (f.startsWith('lsan.')) rmSync(join(outDir, f));
const env = {
  ...process.env,
  LD_PRELOAD: runtime,
  // The ASan runtime runs node; a report in node's own code would abort too. Leaks: collected per process.
  ASAN_OPTIONS: leaks ? `detect_leaks=1:log_path=${lsanPrefix}` : 'detect_leaks=0:abort_on_error=1',
  LSAN_OPTIONS: 'exitcode=0:report_objects=0:max_leaks=2000',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  SCSEG_NATIVE_PATH: addon,
  SCSEG_BACKEND: 'native',
  SCSEG_TEST_BACKENDS: 'native',
  SCSEG_REQUIRE_NATIVE: '1',
};
const jest = join(dirname(require.resolve('jest/package.json')), 'bin', 'jest.js');
const tests = paths.length ? paths : ['test/kernels'];
console.log(`jest ${tests.join(' ')} on the sanitized addon${leaks ? ' (leak check)' : ''}`);
const started = Date.now();
const t = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings', jest, '--runInBand', ...tests], {
  cwd: root,
  stdio: 'inherit',
  env,
});
console.log(`jest exit ${t.status ?? t.signal} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
let failed = t.status !== 0;

if (leaks) {
  const out = join(outDir, 'wga-example3');
  rmSync(out, { recursive: true, force: true });
  const cli = join(root, 'dist/lib/cli/main.js');
  if (!existsSync(cli)) {
    console.error('dist/ not built: run npm run build:ts first');
    process.exit(1);
  }
  const ex = join(root, 'data/example3');
  const w = spawnSync(
    process.execPath,
    [cli, 'segment', '--config', join(ex, 'config_example3.yml'), '--workflow', 'WGASegmentation', '--input',
      join(ex, 'Ch1.tif'), join(ex, 'Ch2.tif'), join(ex, 'Ch3.tif'), '--output', out, '--backend', 'native', '--quiet'],
    { cwd: root, stdio: 'inherit', env },
  );
  console.log(`CLI WGASegmentation on data/example3: exit ${w.status ?? w.signal}`);
  if (w.status !== 0) failed = true;

  // A leak is ours when an allocation stack of it names the addon or a kernel source.
  const reports = readdirSync(outDir).filter((f) => f.startsWith('lsan.'));
  let ours = 0;
  let all = 0;
  for (const f of reports) {
    const text = readFileSync(join(outDir, f), 'utf8');
    for (const block of text.split(/\n(?=(?:Direct|Indirect) leak of )/)) {
      if (!/^(Direct|Indirect) leak of /.test(block)) continue;
      all++;
      if (/scseg_kernels\.node|\/native\/|napi-inl\.h/.test(block)) {
        ours++;
        if (ours <= 10) console.log(`leak through the addon (${f}):\n${block.split('\n').slice(0, 14).join('\n')}\n`);
      }
      if (/ERROR: AddressSanitizer/.test(block)) failed = true;
    }
    if (/ERROR: AddressSanitizer|runtime error/.test(text)) {
      console.log(`sanitizer report in ${f}`);
      failed = true;
    }
  }
  console.log(`leak check: ${reports.length} process report(s), ${all} leak(s) in total, ${ours} through the addon`);
  if (ours) failed = true;
}
process.exit(failed ? 1 : 0);
