/** One progress reporter for the CLI: a bar on a TTY, plain timestamped lines otherwise, nothing with --quiet. */
import cliProgress from 'cli-progress';

export interface Progress {
  stage(message: string): void;
  /** A line that stays on screen (what runs where: backend, threads). */
  info(message: string): void;
  warn(message: string): void;
  done(message: string): void;
}

export function createProgress(opts: { quiet: boolean; stages: number; stream?: NodeJS.WriteStream }): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { stage: () => {}, info: () => {}, warn: () => {}, done: () => {} };
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
  if (!stream.isTTY) {
    return {
      stage: (m) => stream.write(`[scseg ${elapsed()}] ${m}\n`),
      info: (m) => stream.write(`[scseg ${elapsed()}] ${m}\n`),
      warn: (m) => stream.write(`[scseg] warning: ${m}\n`),
      done: (m) => stream.write(`[scseg ${elapsed()}] ${m}\n`),
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: 'scseg [{bar}] {value}/{total} {stage}', stream, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let value = 0;
  bar.start(opts.stages, 0, { stage: 'starting' });
  return {
    stage: (m) => bar.update(Math.min(value++, opts.stages), { stage: m }),
    // Clear the bar's line, print, and let the next update redraw the bar below.
    info: (m) => stream.write(`\r\x1b[2K${m}\n`),
    warn: (m) => stream.write(`\r\x1b[2Kwarning: ${m}\n`),
    done: (m) => {
      bar.update(opts.stages, { stage: m });
      bar.stop();
    },
  };
}
