/**
 * The whole-image values a workflow reads. A whole-image run computes each one from the image the first time it
 * is needed and records it; a window pass is given them (from the global pass) and must never compute one from
 * its window, which would silently give another answer.
 */
import { InternalError } from '../errors.js';

export class GlobalValues<G extends object> {
  private readonly values: Partial<G>;

  private constructor(
    values: Partial<G>,
    private readonly computeMissing: boolean,
  ) {
    this.values = { ...values };
  }

  /** Computes what is missing (whole-image run). */
  static computed<G extends object>(): GlobalValues<G> {
    return new GlobalValues<G>({}, true);
  }

  /** Only the given values (window pass). */
  static given<G extends object>(values: G): GlobalValues<G> {
    return new GlobalValues<G>(values, false);
  }

  get<K extends keyof G>(key: K, compute: () => NonNullable<G[K]>): NonNullable<G[K]> {
    const known = this.values[key];
    if (known !== undefined) return known as NonNullable<G[K]>;
    if (!this.computeMissing) {
      throw new InternalError(`window pass: the global value "${String(key)}" was not given; run the global pass first`);
    }
    const v = compute();
    this.values[key] = v;
    return v;
  }

  /**
   * A value a whole-image run does without (undefined there) but a window pass must be given: e.g. the marker order,
   * which only matters once the image is cut.
   */
  optional<K extends keyof G>(key: K): G[K] | undefined {
    const known = this.values[key];
    if (known === undefined && !this.computeMissing) {
      throw new InternalError(`window pass: the global value "${String(key)}" was not given; run the global pass first`);
    }
    return known;
  }

  /** The values used so far. */
  snapshot(): Partial<G> {
    return { ...this.values };
  }
}
