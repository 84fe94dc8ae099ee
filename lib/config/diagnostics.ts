/** Collects every problem and warning of one config check, worded with key paths and (for YAML) line numbers. */
import type { ParsedSource } from './source.js';
import type { ConfigProblem } from './types.js';
import type { NumberAsText } from './yaml-document.js';

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
   * The number a plain YAML scalar at `path` spells in YAML 1.2 / JSON (`1e-3`, `+.5`, `09`) though PyYAML, and so
   * scPortrait, reads it as text; undefined for anything else.
   */
  numberAsText(path: string): NumberAsText | undefined {
    return this.source.numbersAsText.get(path);
  }

  /** The value as the user wrote it: YAML source text when known, else a short JSON-like rendering. */
  describe(value: unknown, path: string): string {
    const text = this.source.texts.get(path);
    // `key:` with nothing after it (PyYAML: None) has no text to show.
    if (text !== undefined && text.trim() === '' && value === null) return 'an empty value';
    // A number PyYAML reads as text is shown as written, unquoted, like the numbers it stands for.
    if (text !== undefined && (typeof value !== 'string' || this.numberAsText(path))) return text;
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
