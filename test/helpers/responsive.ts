/** Whether the calling thread stays responsive while work runs elsewhere: a 5 ms timer's longest pause. */

/** The longest pause of a 5 ms interval timer on this thread while `work` runs, when it happened, and the ticks. */
export async function longestTimerGap(work: () => Promise<unknown>): Promise<{ gap: number; at: number; ticks: number }> {
  const ticks: number[] = [];
  const t0 = performance.now();
  const timer = setInterval(() => ticks.push(performance.now()), 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const gaps = ticks.slice(1).map((t, i) => t - ticks[i]);
  const worst = gaps.indexOf(Math.max(...gaps));
  return { gap: gaps[worst] ?? Infinity, at: ticks[worst] - t0, ticks: ticks.length };
}

/**
 * Expects the timer never to pause more than `limit` ms during `work`. Work that blocks this thread (a sync
 * decoder, a large copy) shows up in every run; a busy machine can also keep a runnable thread off its core now and
 * then — so up to three runs, and one must pass.
 */
export async function expectResponsive(work: () => Promise<unknown>, limit = 50): Promise<void> {
  const seen: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const { gap, at, ticks } = await longestTimerGap(work);
    expect(ticks).toBeGreaterThan(10);
    seen.push(`${gap.toFixed(0)} ms pause at ${at.toFixed(0)} ms`);
    if (gap <= limit) return;
  }
  throw new Error(`the timer paused more than ${limit} ms in every run: ${seen.join('; ')}`);
}
