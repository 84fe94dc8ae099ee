/** One progress reporter for the CLI: a bar on a TTY, plain timestamped lines otherwise, nothing with --quiet. */
import cliProgress from 'cli-progress';

export interface Progress {
  stage(message: string): void;
  /** A line that stays on screen (what runs where: backend, threads). */
  info(message: string): void;
  warn(message: string): void;
  /** A counted stage (shards done of total). */
  steps(done: number, total: number, message: string): void;
  done(message: string): void;
  /** Ends the display without a final message (after an error); idempotent. */
  close(): void;
}

/** DECTCEM show cursor, DECAWM line wrapping on: what the bar's stop() writes. */
export const SHOW_CURSOR_AND_WRAP = '\x1b[?25h\x1b[?7h';

export function createProgress(opts: { quiet: boolean; stages: number; stream?: NodeJS.WriteStream }): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { stage: () => {}, info: () => {}, warn: () => {}, steps: () => {}, done: () => {}, close: () => {} };
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
  if (!stream.isTTY) {
    return {
      stage: (m) => stream.write(`[scseg ${elapsed()}] ${m}\n`),
      info: (m) => stream.write(`[scseg ${elapsed()}] ${m}\n`),
      warn: (m) => stream.write(`[scseg] warning: ${m}\n`),
      steps: (_done, _total, m) => stream.write(`[scseg ${elapsed()}] ${m}\n`),
      done: (m) => stream.write(`[scseg ${elapsed()}] ${m}\n`),
      close: () => {},
    };
  }
  // A MultiBar holding one bar: its log() prints lines above the bar (a SingleBar restores the cursor to where it
  // started on stop, so lines printed meanwhile would be overwritten).
  const bars = new cliProgress.MultiBar(
    { format: 'scseg [{bar}] {value}/{total} {stage}', stream, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const bar = bars.create(opts.stages, 0, { stage: 'starting' });
  let value = 0;
  let counted: number | undefined;
  let stopped = false;
  // The bar hides the cursor and turns line wrapping off; a process that exits without stop() (a second Ctrl-C,
  // a crash) must still give the terminal back.
  const restoreTerminal = () => stream.write(SHOW_CURSOR_AND_WRAP);
  process.on('exit', restoreTerminal);
  const stop = () => {
    if (stopped) return; // a second MultiBar.stop would draw the bar again
    stopped = true;
    process.off('exit', restoreTerminal);
    bars.stop();
  };
  const line = (m: string) => {
    bars.log(`${m}\n`);
    bars.update(); // prints the logged line now instead of at the next timer tick
  };
  return {
    stage: (m) => {
      if (counted !== undefined) {
        // After a counted stage the bar keeps its count; later stages only change the label.
        bar.update({ stage: m });
        return;
      }
      bar.update(Math.min(value++, opts.stages), { stage: m });
    },
    info: line,
    warn: (m) => line(`warning: ${m}`),
    steps: (done, total, m) => {
      bar.setTotal(total);
      bar.update(done, { stage: m });
      counted = total;
    },
    done: (m) => {
      bar.update(counted ?? opts.stages, { stage: m });
      stop();
    },
    // Without it the bar's redraw timer would keep the process alive after an error.
    close: stop,
  };
}
