/**
 * Typed access to one mapping of the config (the workflow's top level, or a `<mask>_segmentation` section).
 * Every getter reports a bad value as a problem with its key path and returns `undefined`; the `require*`
 * getters also report a missing key and return a NaN/empty placeholder. A config is only handed out when no
 * problem was reported, so placeholders never escape.
 *
 * Number policy: "integer" keys (disk radii, window sizes, steps, counts, channel ids) need an int — `4.0` written
 * in YAML is rejected like scPortrait would (slicing/disk sizes need Python ints); from a JS object any integral
 * number counts. "Number" keys take ints and floats alike, except that the few keys scPortrait type-checks as
 * floats (quantiles, mask-matching threshold) also warn when written as ints, since the original rejects them.
 * Numbers PyYAML reads as text (`1e-3`, `+.5`, `09`: scPortrait fails on them) are accepted with a warning saying
 * how to write them for the original.
 */
import { closestKey } from './suggest.js';
import type { Diagnostics } from './diagnostics.js';
import { joinPath } from './source.js';
import { pyYamlNumberSpelling } from './yaml-scalars.js';

export interface IntRange {
  min?: number;
  max?: number;
  odd?: boolean;
}

export interface NumberRange {
  min?: number;
  max?: number;
  /** Exclude the bound itself: (min, …) or (…, max). */
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

export const UNIT_INTERVAL: NumberRange = { min: 0, max: 1 };

/** A plain object: a YAML mapping (not a timestamp or other value object). */
export function isMapping(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export class Section {
  constructor(
    readonly diag: Diagnostics,
    /** Key path of this mapping ('' for the root of a single-workflow file). */
    readonly path: string,
    readonly values: Readonly<Record<string, unknown>>,
  ) {}

  /** Section name for messages. */
  get label(): string {
    return this.path ? `section ${this.path}` : 'the top level';
  }

  keyPath(key: string): string {
    return joinPath(this.path, key);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.values, key);
  }

  raw(key: string): unknown {
    return this.has(key) ? this.values[key] : undefined;
  }

  problem(key: string, message: string): void {
    this.diag.problem(this.keyPath(key), message);
  }

  warn(key: string, message: string): void {
    this.diag.warn(this.keyPath(key), message);
  }

  missing(key: string, why?: string): void {
    this.diag.problem(this.keyPath(key), `missing required key "${key}" in ${this.label}${why ? `: ${why}` : ''}`);
  }

  got(key: string): string {
    return this.diag.describe(this.raw(key), this.keyPath(key));
  }

  /** A nested mapping (e.g. `nucleus_segmentation`), or undefined after reporting a non-mapping value. */
  section(key: string): Section | undefined {
    const value = this.raw(key);
    if (!isMapping(value)) {
      this.problem(key, `must be a mapping of parameters, got ${this.got(key)}`);
      return undefined;
    }
    return new Section(this.diag, this.keyPath(key), value);
  }

  /** An integer read from this mapping's `key` at `path` (also used for list elements). */
  intValue(value: unknown, path: string): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value) || this.diag.isFloatLiteral(path)) return undefined;
    return value;
  }

  int(key: string, range: IntRange = {}): number | undefined {
    if (!this.has(key)) return undefined;
    const asText = this.numberAsText(key);
    const value = asText && !asText.float ? asText.value : this.intValue(this.raw(key), this.keyPath(key));
    const inRange =
      value !== undefined &&
      (range.min === undefined || value >= range.min) &&
      (range.max === undefined || value <= range.max) &&
      (!range.odd || Math.abs(value % 2) === 1);
    if (inRange) {
      if (asText) this.warnNumberAsText(key, value);
      return value;
    }
    this.problem(key, `must be ${describeInt(range)}, got ${this.got(key)}`);
    return undefined;
  }

  requireInt(key: string, range: IntRange = {}, why?: string): number {
    if (!this.has(key)) {
      this.missing(key, why);
      return Number.NaN;
    }
    return this.int(key, range) ?? Number.NaN;
  }

  number(key: string, range: NumberRange = {}): number | undefined {
    if (!this.has(key)) return undefined;
    const asText = this.numberAsText(key);
    const value = asText ? asText.value : this.raw(key);
    if (typeof value === 'number' && Number.isFinite(value) && inNumberRange(value, range)) {
      if (asText) this.warnNumberAsText(key, value);
      return value;
    }
    this.problem(key, `must be ${describeNumber(range)}, got ${this.got(key)}`);
    return undefined;
  }

  private numberAsText(key: string): { value: number; float: boolean } | undefined {
    return this.diag.numberAsText(this.keyPath(key));
  }

  private warnNumberAsText(key: string, value: number): void {
    const text = String(this.raw(key));
    this.warn(
      key,
      `scPortrait's YAML reader (PyYAML) reads ${text} as the text "${text}", not a number, and fails on it; ` +
        `write ${pyYamlNumberSpelling(text)} — accepted as ${value}`,
    );
  }

  requireNumber(key: string, range: NumberRange = {}, why?: string): number {
    if (!this.has(key)) {
      this.missing(key, why);
      return Number.NaN;
    }
    return this.number(key, range) ?? Number.NaN;
  }

  /**
   * A number scPortrait checks with `isinstance(x, float)`: ints are accepted here (harmless for us) with a
   * warning that the original would reject them.
   */
  float(key: string, range: NumberRange = {}): number | undefined {
    const value = this.number(key, range);
    const path = this.keyPath(key);
    const writtenAsFloat = this.diag.isFloatLiteral(path) || this.diag.numberAsText(path)?.float === true;
    const writtenAsInt = this.diag.source.yaml && !writtenAsFloat;
    if (value !== undefined && Number.isInteger(value) && writtenAsInt) {
      this.warn(key, `written as the integer ${value}; scPortrait requires a float here (write ${value}.0) — accepted`);
    }
    return value;
  }

  bool(key: string): boolean | undefined {
    if (!this.has(key)) return undefined;
    const value = this.raw(key);
    if (typeof value === 'boolean') return value;
    this.problem(key, `must be true or false, got ${this.got(key)}`);
    return undefined;
  }

  string(key: string): string | undefined {
    if (!this.has(key)) return undefined;
    const value = this.raw(key);
    if (typeof value === 'string' && value.length > 0) return value;
    this.problem(key, `must be a non-empty string, got ${this.got(key)}`);
    return undefined;
  }

  /** True when the key holds YAML null or the string "None" (PyYAML reads `None` as a string). */
  isNone(key: string): boolean {
    const value = this.raw(key);
    return value === null || (typeof value === 'string' && value.trim().toLowerCase() === 'none');
  }

  /**
   * Warns about every key that is neither `known` nor listed in `ignored` (key → why it is ignored), with a
   * did-you-mean suggestion among the known keys.
   */
  warnUnknownKeys(known: readonly string[], ignored: Readonly<Record<string, string>> = {}): void {
    for (const key of Object.keys(this.values)) {
      if (known.includes(key)) continue;
      if (Object.hasOwn(ignored, key)) {
        this.warn(key, `ignored: ${ignored[key]}`);
        continue;
      }
      const suggestion = closestKey(key, known);
      this.warn(key, `unknown key, ignored${suggestion ? `; did you mean "${suggestion}"?` : ''}`);
    }
  }
}

function describeInt(range: IntRange): string {
  const kind = range.odd ? 'an odd integer' : 'an integer';
  if (range.min !== undefined && range.max !== undefined) return `${kind} in [${range.min}, ${range.max}]`;
  if (range.min !== undefined) return `${kind} ≥ ${range.min}`;
  if (range.max !== undefined) return `${kind} ≤ ${range.max}`;
  return kind;
}

function inNumberRange(value: number, r: NumberRange): boolean {
  if (r.min !== undefined && (r.minExclusive ? value <= r.min : value < r.min)) return false;
  if (r.max !== undefined && (r.maxExclusive ? value >= r.max : value > r.max)) return false;
  return true;
}

function describeNumber(r: NumberRange): string {
  if (r.min !== undefined && r.max !== undefined) {
    return `a number in ${r.minExclusive ? '(' : '['}${r.min}, ${r.max}${r.maxExclusive ? ')' : ']'}`;
  }
  if (r.min !== undefined) return `a number ${r.minExclusive ? '>' : '≥'} ${r.min}`;
  if (r.max !== undefined) return `a number ${r.maxExclusive ? '<' : '≤'} ${r.max}`;
  return 'a finite number';
}
