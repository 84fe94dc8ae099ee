/** Collects every problem and warning of one config check, worded with key paths and (for YAML) line numbers. */
import type { ParsedSource } from './source.js';
import type { ConfigProblem } from './types.js';

// PyYAML's implicit float resolver (YAML 1.1).
const PYYAML_FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

export class Diagnostics {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: string[] = [];

  constructor(readonly source: ParsedSource) {}

  /** A problem with the value at `path`; `(line N)` is appended when the key's line is known. */
  problem(path: string, message: string): void {
    const line = this.source.lines.get(path);
    this.problems.push({ path, message: line === undefined ? message : `${message} (line ${line})` });
  }

  warn(path: string, message: string): void {
    const line = this.source.lines.get(path);
    const where = `${path}${line === undefined ? '' : ` (line ${line})`}`;
    this.warnings.push(where ? `${where}: ${message}` : message);
  }

  /** True when the value at `path` was written as a float literal (`4.0`), which scPortrait does not take as an int. */
  isFloatLiteral(path: string): boolean {
    return this.source.floatLiterals.has(path);
  }

  /**
   * True when a YAML number at `path` is one PyYAML (scPortrait's reader) would load as a STRING: its YAML 1.1 float
   * pattern needs a dot and a signed exponent, so `1e-3` or `1.0e3` are strings there.
   */
  isStringForPyYaml(path: string): boolean {
    const text = this.source.texts.get(path);
    return this.isFloatLiteral(path) && text !== undefined && !PYYAML_FLOAT.test(text);
  }

  /** The value as the user wrote it: YAML source text when known, else a short JSON-like rendering. */
  describe(value: unknown, path: string): string {
    const text = this.source.texts.get(path);
    if (text !== undefined && typeof value !== 'string') return text;
    if (value === undefined) return 'nothing';
    if (value === null) return 'null';
    if (typeof value === 'string') return JSON.stringify(value);
    if (Array.isArray(value)) {
      const json = JSON.stringify(value);
      return `a list ${json.length > 60 ? `${json.slice(0, 57)}...` : json}`;
    }
    if (typeof value === 'object') return 'a mapping';
    return String(value);
  }
}
