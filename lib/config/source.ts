/**
 * Turns a config source (YAML file, YAML text, plain object) into a plain value tree plus what the checks need
 * to know about the text it came from: which numbers were written as floats (`4.0` is not an integer for
 * scPortrait), the line of each key, duplicate keys.
 *
 * YAML is read as YAML 1.1 like PyYAML's `safe_load` (scPortrait's reader): `True`/`yes`/`on` are booleans,
 * duplicate keys are allowed and the last one wins (with a warning; scPortrait's example_3 config repeats
 * `chunk_size`). `None` stays the string "None", as in PyYAML; the few keys where None means "unset" accept it.
 */
import fs from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { ConfigProblem, ConfigSource } from './types.js';

export interface ParsedSource {
  /** True for YAML sources, where ints and floats are told apart by how they are written. */
  yaml: boolean;
  /** Plain values: objects, arrays, strings, numbers (ints from YAML are plain numbers too), booleans, null. */
  root: unknown;
  /** Key paths (`a.b[0]`) of numbers written as float literals in YAML (`4.0`, `1e3`), which are not ints. */
  floatLiterals: ReadonlySet<string>;
  /** 1-based line of each key path, for YAML sources. */
  lines: ReadonlyMap<string, number>;
  /** The source text of each scalar, for YAML sources (shown in messages as written). */
  texts: ReadonlyMap<string, string>;
  /** Keys written twice in one mapping (PyYAML keeps the last value; so do we). */
  duplicates: { path: string; lines: [number, number] }[];
  problems: ConfigProblem[];
  warnings: string[];
}

export function joinPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

export function readSource(source: ConfigSource): ParsedSource {
  if (source !== null && typeof source === 'object') {
    if ('object' in source) return fromObject(source.object);
    if ('text' in source && typeof source.text === 'string') return fromYaml(source.text, '<text>');
    if ('path' in source && typeof source.path === 'string') {
      let text: string;
      try {
        text = fs.readFileSync(source.path, 'utf8');
      } catch (err) {
        return failed(`cannot read config file "${source.path}": ${(err as Error).message}`);
      }
      return fromYaml(text, source.path);
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
    duplicates: [],
    problems: [],
    warnings: [],
  };
}

function failed(message: string): ParsedSource {
  return { ...empty(), problems: [{ path: '', message }] };
}

function fromObject(object: unknown): ParsedSource {
  return { ...empty(), root: plain(object, '', null) };
}

function fromYaml(text: string, origin: string): ParsedSource {
  const lineCounter = new LineCounter();
  // intAsBigInt: ints arrive as bigint and floats as number, which keeps `4` and `4.0` apart.
  const doc = parseDocument(text, {
    version: '1.1',
    intAsBigInt: true,
    uniqueKeys: false,
    lineCounter,
    prettyErrors: false,
  });
  const parsed = empty();
  for (const error of doc.errors) {
    const pos = lineCounter.linePos(error.pos[0]);
    const message = error.message
      .split('\n')[0]
      .replace(/ at line \d+, column \d+:?$/, '')
      .replace(/; please use YAML\.parseAllDocuments\(\)/, ' (a config is one YAML document)');
    const where = `line ${pos.line}, column ${pos.col}`;
    parsed.problems.push({ path: '', message: `${origin}: YAML syntax error at ${where}: ${message}` });
  }
  if (parsed.problems.length > 0) return parsed;
  for (const warning of doc.warnings) parsed.warnings.push(`${origin}: YAML: ${warning.message.split('\n')[0]}`);

  const lines = new Map<string, number>();
  const texts = new Map<string, string>();
  const duplicates: ParsedSource['duplicates'] = [];
  collectPositions(doc.contents, '', lineCounter, lines, texts, duplicates);
  const floatLiterals = new Set<string>();
  let root: unknown;
  try {
    root = plain(doc.toJS({ maxAliasCount: 1000 }), '', floatLiterals);
  } catch (err) {
    parsed.problems.push({ path: '', message: `${origin}: ${(err as Error).message}` });
    return parsed;
  }
  return { yaml: true, root, floatLiterals, lines, texts, duplicates, problems: [], warnings: parsed.warnings };
}

/** Records lines and scalar texts by key path, and the duplicate keys. */
function collectPositions(
  node: Node | null,
  path: string,
  lc: LineCounter,
  lines: Map<string, number>,
  texts: Map<string, string>,
  duplicates: ParsedSource['duplicates'],
): void {
  if (!node || isAlias(node)) return;
  if (isScalar(node)) {
    if (typeof node.source === 'string') texts.set(path, node.source);
    return;
  }
  if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const child = joinPath(path, i);
      const range = (item as Node | null)?.range;
      if (range) lines.set(child, lc.linePos(range[0]).line);
      collectPositions(item as Node, child, lc, lines, texts, duplicates);
    });
    return;
  }
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      if (key === '<<') continue;
      const child = joinPath(path, key);
      const line = pair.key.range ? lc.linePos(pair.key.range[0]).line : undefined;
      const previous = lines.get(child);
      if (previous !== undefined && line !== undefined) duplicates.push({ path: child, lines: [previous, line] });
      if (line !== undefined) lines.set(child, line);
      collectPositions(pair.value as Node, child, lc, lines, texts, duplicates);
    }
  }
}

/** Plain JSON-like copy: bigint → number; records float-literal paths when `floats` is given (YAML sources). */
function plain(value: unknown, path: string, floats: Set<string> | null): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') {
    floats?.add(path);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => plain(v, joinPath(path, i), floats));
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = plain(v, joinPath(path, String(k)), floats);
    return out;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v, joinPath(path, k), floats);
    return out;
  }
  return value;
}
