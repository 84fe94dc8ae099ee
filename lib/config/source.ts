/**
 * Turns a config source (YAML file, YAML text, plain object) into a plain value tree plus what the checks need
 * to know about the text it came from: which numbers were written as floats (`4.0` is not an integer for
 * scPortrait), the line of each key, duplicate keys.
 *
 * YAML is read exactly as PyYAML's `safe_load` (scPortrait's reader) reads it (yaml-document.ts, yaml-scalars.ts):
 * `True`/`yes`/`on` are booleans, `.` and `1e-3` are strings, duplicate keys are allowed and the last one wins (with
 * a warning; scPortrait's example_3 config repeats `chunk_size`). `None` stays the string "None", as in PyYAML; the
 * few keys where None means "unset" accept it.
 */
import type { ConfigProblem, ConfigSource } from './types.js';
import {
  joinPath,
  keyName,
  readYamlDocument,
  YamlMapping,
  type NumberAsText,
  type YamlError,
  type YamlValue,
} from './yaml-document.js';

export { joinPath };

export interface ParsedSource {
  /** True for YAML sources, where ints and floats are told apart by how they are written. */
  yaml: boolean;
  /** Plain values: objects, arrays, strings, numbers (ints from YAML are plain numbers too), booleans, null. */
  root: unknown;
  /** Key paths (`a.b[0]`) of numbers written as float literals in YAML (`4.0`, `1.0e+3`), which are not ints. */
  floatLiterals: ReadonlySet<string>;
  /** 1-based line of each key path, for YAML sources. */
  lines: ReadonlyMap<string, number>;
  /** The source text of each scalar, for YAML sources (shown in messages as written). */
  texts: ReadonlyMap<string, string>;
  /** Plain scalars that PyYAML reads as text though they spell numbers elsewhere (`1e-3`, `+.5`), by key path. */
  numbersAsText: ReadonlyMap<string, NumberAsText>;
  /** Keys written twice in one mapping (PyYAML keeps the last value; so do we). */
  duplicates: { path: string; lines: [number, number] }[];
  problems: ConfigProblem[];
  warnings: string[];
  /** The config file, for messages about the whole document (undefined for text and object sources). */
  file?: string;
}

/**
 * Reads a config file where the runtime has a file system (Node's, reached without a static import so that this
 * module stays usable in a browser, where `{ path }` sources are an error asking for `{ text }`).
 */
function readTextFile(file: string): string {
  type NodeFs = { readFileSync(path: string, encoding: 'utf8'): string };
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fileSystem = proc?.getBuiltinModule?.('node:fs') as NodeFs | undefined;
  if (!fileSystem) throw new Error('this runtime has no file system; pass the YAML as { text }');
  return fileSystem.readFileSync(file, 'utf8');
}

export function readSource(source: ConfigSource): ParsedSource {
  if (source !== null && typeof source === 'object') {
    if ('object' in source) return fromObject(source.object);
    if ('text' in source && typeof source.text === 'string') return fromYaml(source.text, '<text>');
    if ('path' in source && typeof source.path === 'string') {
      let text: string;
      try {
        text = readTextFile(source.path);
      } catch (err) {
        return failed(`cannot read config file "${source.path}": ${(err as Error).message}`);
      }
      return { ...fromYaml(text, source.path), file: source.path };
    }
  }
  return failed('config source must be { path: string }, { text: string } or { object: unknown }');
}

function empty(): ParsedSource {
  return {
    yaml: false,
    root: undefined,
    floatLiterals: new Set(),
    lines: new Map(),
    texts: new Map(),
    numbersAsText: new Map(),
    duplicates: [],
    problems: [],
    warnings: [],
  };
}

function failed(message: string): ParsedSource {
  return { ...empty(), problems: [{ path: '', message }] };
}

function fromObject(object: unknown): ParsedSource {
  return { ...empty(), root: plain(object) };
}

function fromYaml(text: string, origin: string): ParsedSource {
  const doc = readYamlDocument(text);
  const parsed = empty();
  parsed.warnings.push(...doc.warnings.map((w) => `${origin}: YAML: ${w}`));
  for (const error of doc.errors) parsed.problems.push(yamlProblem(error, origin));
  if (parsed.problems.length > 0) return parsed;
  const floatLiterals = new Set<string>();
  const root = fromYamlValue(doc.value, '', floatLiterals);
  return {
    ...parsed,
    yaml: true,
    root,
    floatLiterals,
    lines: doc.lines,
    texts: doc.texts,
    numbersAsText: doc.numbersAsText,
    duplicates: doc.duplicates,
  };
}

function yamlProblem(error: YamlError, origin: string): ConfigProblem {
  const where = `line ${error.line}, column ${error.column}`;
  if (error.kind === 'syntax') {
    return { path: '', message: `${origin}: YAML syntax error at ${where}: ${error.message}` };
  }
  // The value cannot be built the way scPortrait's reader builds it: PyYAML's safe_load would stop here.
  const fix = /'tag:yaml\.org,2002:(value|merge)'/.exec(error.message);
  const hint = fix ? `; quote it ("${fix[1] === 'value' ? '=' : '<<'}") to mean the text` : '';
  const failure = `scPortrait's YAML reader (PyYAML safe_load) fails here: ${error.message}${hint}`;
  const message = `${failure} (line ${error.line})`;
  return { path: error.path, message: error.path ? message : `${origin}: ${message}` };
}

/** The config tree of a YAML value: ints and floats as numbers (float paths recorded), keys as Python's str(). */
function fromYamlValue(value: YamlValue, path: string, floats: Set<string>): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') {
    floats.add(path);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => fromYamlValue(v, joinPath(path, i), floats));
  if (value instanceof YamlMapping) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value.entries) {
      const key = keyName(k);
      out[key] = fromYamlValue(v, joinPath(path, key), floats);
    }
    return out;
  }
  return value;
}

/** Plain JSON-like copy of an object source: bigint → number, Map → object. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = plain(v);
    return out;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}
