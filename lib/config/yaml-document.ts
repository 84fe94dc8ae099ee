/**
 * Reads one YAML document the way PyYAML's `safe_load` does (scPortrait's config reader): the `yaml` package parses
 * and composes (with {@link PYYAML_SCALAR_TAGS} for the scalars), this module constructs the values like
 * SafeConstructor — merge keys (`<<`) flattened as `flatten_mapping` does, `=` as a key read as the text "=",
 * keys compared like Python dict keys (`1`, `1.0` and `true` are one key), unhashable keys and tags without a
 * constructor rejected. Along the way it records, per key path, what the config checks quote back to the user.
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Alias,
  type Document,
  type Node,
  type Pair,
  type Scalar,
} from 'yaml';
import {
  PYYAML_SCALAR_TAGS,
  resolvePlainScalar,
  Unconstructable,
  YamlTimestamp,
} from './yaml-scalars.js';
import { tabsPyYamlRejects } from './yaml-tabs.js';

/** A mapping as PyYAML builds it: keys unique by Python equality, in first-insertion order. */
export class YamlMapping {
  constructor(readonly entries: readonly (readonly [YamlValue, YamlValue])[]) {}
}

/** What `safe_load` returns, in JS: int → bigint, float → number, date/datetime → YamlTimestamp. */
export type YamlValue = null | boolean | bigint | number | string | YamlTimestamp | YamlValue[] | YamlMapping;

export interface YamlError {
  /** Key path of the value concerned ('' when unknown or for the whole document). */
  path: string;
  message: string;
  line: number;
  column: number;
  /** Parse errors come from the `yaml` package; construct errors mirror PyYAML's ConstructorError. */
  kind: 'syntax' | 'construct';
}

export interface YamlDocument {
  value: YamlValue;
  /** 1-based line of each key path. */
  lines: Map<string, number>;
  /** Source text of each scalar by key path. */
  texts: Map<string, string>;
  /** Keys written twice in one mapping (not counting keys that override merged ones). */
  duplicates: { path: string; lines: [number, number] }[];
  /** Plain scalars PyYAML reads as strings though they are numbers in YAML 1.2 / JSON (`1e-3`, `+.5`, `09`). */
  numbersAsText: Map<string, NumberAsText>;
  errors: YamlError[];
  warnings: string[];
}

export interface NumberAsText {
  value: number;
  /** Written with a dot or an exponent: a float, not an int, wherever it is accepted. */
  float: boolean;
}

// A YAML 1.2 core / JSON number: what a user who wrote `1e-3` or `+.5` meant.
const YAML12_NUMBER = /^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;
const SCALAR_TAGS = new Set([
  '!',
  ...['str', 'int', 'float', 'bool', 'null', 'timestamp'].map((t) => `tag:yaml.org,2002:${t}`),
]);
// SafeLoader types that are not config values; they are reported rather than built.
const PYYAML_ONLY_TAGS: Readonly<Record<string, string>> = {
  'tag:yaml.org,2002:binary': 'bytes',
  'tag:yaml.org,2002:set': 'a set',
  'tag:yaml.org,2002:omap': 'a list of pairs',
  'tag:yaml.org,2002:pairs': 'a list of pairs',
};
// Alias expansion copies values; this bounds a "billion laughs" document.
const MAX_NODES = 1_000_000;

export function joinPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

/** Python's `str()` of a key: the name a key path shows for a non-string key. */
export function keyName(key: YamlValue): string {
  if (typeof key === 'string') return key;
  if (key === null) return 'None';
  if (typeof key === 'boolean') return key ? 'True' : 'False';
  if (typeof key === 'number') return pyFloatRepr(key);
  return String(key);
}

function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${Object.is(x, -0) ? '-' : ''}${Math.abs(x)}.0`;
  return String(x);
}

/** Python dict-key identity: `1 == 1.0 == True`, every NaN from `.nan` is the same object. */
function keyIdentity(key: YamlValue): string {
  if (typeof key === 'string') return `s${key}`;
  if (typeof key === 'boolean') return `n${key ? 1 : 0}`;
  if (typeof key === 'bigint') return `n${key}`;
  if (typeof key === 'number') {
    if (Number.isInteger(key) && Math.abs(key) <= Number.MAX_SAFE_INTEGER) return `n${BigInt(key)}`;
    return `n${key}`;
  }
  if (key instanceof YamlTimestamp) return `t${key.iso}`;
  return 'null';
}

class ConstructError extends Error {
  constructor(
    message: string,
    readonly node: Node | null,
    readonly path: string,
  ) {
    super(message);
  }
}

const kindOf = (node: Node | null): string => (isMap(node) ? 'mapping' : isSeq(node) ? 'sequence' : 'scalar');

export function readYamlDocument(text: string): YamlDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.1',
    schema: 'failsafe',
    customTags: (failsafe) => [...PYYAML_SCALAR_TAGS, ...failsafe],
    resolveKnownTags: false,
    uniqueKeys: false,
    lineCounter,
    prettyErrors: false,
  });
  const result: YamlDocument = {
    value: null,
    lines: new Map(),
    texts: new Map(),
    duplicates: [],
    numbersAsText: new Map(),
    errors: [],
    warnings: [],
  };
  for (const error of doc.errors) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    result.errors.push({ path: '', message: tidy(error.message), line, column: col, kind: 'syntax' });
  }
  // Unknown tags are reported as construct errors below, as PyYAML reports them.
  for (const warning of doc.warnings) {
    if (warning.code !== 'TAG_RESOLVE_FAILED') result.warnings.push(tidy(warning.message));
  }
  if (result.errors.length > 0) return result;
  const tabLines = [...new Set(tabsPyYamlRejects(text).map((t) => lineCounter.linePos(t.offset).line))];
  if (tabLines.length > 0) {
    result.warnings.push(
      `tab outside quotes, block scalars and comments at line${tabLines.length > 1 ? 's' : ''} ${tabLines.join(', ')}: ` +
        `scPortrait's YAML reader (PyYAML) stops there ("found character '\\t' that cannot start any token"); ` +
        'replace with spaces',
    );
  }
  try {
    result.value = new Constructor(doc, lineCounter, result).construct(doc.contents as Node | null, '');
  } catch (err) {
    if (!(err instanceof ConstructError)) throw err;
    const offset = err.node?.range?.[0] ?? 0;
    const { line, col } = lineCounter.linePos(offset);
    result.errors.push({ path: err.path, message: err.message, line, column: col, kind: 'construct' });
  }
  return result;
}

function tidy(message: string): string {
  return message
    .split('\n')[0]
    .replace(/ at line \d+, column \d+:?$/, '')
    .replace(/; please use YAML\.parseAllDocuments\(\)/, ' (a config is one YAML document)');
}

class Constructor {
  private readonly anchored: Node[] = [];
  private readonly inProgress = new Set<Node>();
  private nodes = 0;

  constructor(
    doc: Document.Parsed,
    private readonly lc: LineCounter,
    private readonly out: YamlDocument,
  ) {
    // Document order of anchors and aliases: an alias refers to the last anchor of its name before it.
    visit(doc, {
      Node: (_key, node) => {
        if (isAlias(node) || (node as { anchor?: string }).anchor) this.anchored.push(node as Node);
      },
    });
  }

  private deref(node: Node | null): Node | null {
    if (!node || !isAlias(node)) return node;
    let found: Node | null = null;
    for (const other of this.anchored) {
      if (other === node) break;
      if (!isAlias(other) && (other as { anchor?: string }).anchor === (node as Alias).source) found = other;
    }
    if (!found) throw new ConstructError(`found undefined alias '${(node as Alias).source}'`, node, '');
    return found;
  }

  private line(node: Node | null): number | undefined {
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : this.lc.linePos(offset).line;
  }

  construct(written: Node | null, path: string): YamlValue {
    const node = this.deref(written);
    if (++this.nodes > MAX_NODES) throw new ConstructError('too many aliased values', written, path);
    // A key that overrides a merged one is built again at the same path: nothing of the merged value may linger.
    this.out.texts.delete(path);
    this.out.numbersAsText.delete(path);
    if (node === null) return null;
    if (this.inProgress.has(node)) {
      const message = 'a value that contains itself (recursive alias) cannot be a config value';
      throw new ConstructError(message, written, path);
    }
    this.inProgress.add(node);
    try {
      if (isScalar(node)) return this.scalar(node, path);
      this.checkCollectionTag(node);
      if (isSeq(node)) return node.items.map((item, i) => this.sequenceItem(item as Node | null, joinPath(path, i)));
      if (isMap(node)) return this.mapping(node as unknown as MapNode, path);
      throw new ConstructError(`unexpected YAML node ${String(node)}`, node, path);
    } finally {
      this.inProgress.delete(node);
    }
  }

  private sequenceItem(item: Node | null, path: string): YamlValue {
    const line = this.line(item);
    if (line !== undefined) this.out.lines.set(path, line);
    return this.construct(item, path);
  }

  private checkCollectionTag(node: Node): void {
    const tag = node.tag;
    if (tag === undefined || tag === '!') return;
    const kind = isMap(node) ? 'map' : 'seq';
    if (tag === `tag:yaml.org,2002:${kind}`) return;
    const message = SCALAR_TAGS.has(tag)
      ? `expected a scalar node, but found ${kindOf(node)}`
      : tag === 'tag:yaml.org,2002:map' || tag === 'tag:yaml.org,2002:seq'
        ? `expected a ${tag.endsWith('map') ? 'mapping' : 'sequence'} node, but found ${kindOf(node)}`
        : PYYAML_ONLY_TAGS[tag]
          ? `the tag '${tag}' makes ${PYYAML_ONLY_TAGS[tag]} in PyYAML, which no config key takes`
          : `could not determine a constructor for the tag '${tag}'`;
    throw new ConstructError(message, node, '');
  }

  private scalar(node: Scalar, path: string): YamlValue {
    if (node.tag !== undefined && !SCALAR_TAGS.has(node.tag)) {
      const built = PYYAML_ONLY_TAGS[node.tag];
      const message = built
        ? `the tag '${node.tag}' makes ${built} in PyYAML, which no config key takes`
        : `could not determine a constructor for the tag '${node.tag}'`;
      throw new ConstructError(message, node, path);
    }
    const source = typeof node.source === 'string' ? node.source : String(node.value ?? '');
    this.out.texts.set(path, source);
    // PyYAML resolves a scalar tagged with the non-specific `!` as if it were plain, even when quoted.
    const value = node.tag === '!' ? resolvePlainScalar(source) : node.value;
    if (value instanceof Unconstructable) throw new ConstructError(value.message, node, path);
    if (
      typeof value === 'string' &&
      node.type === 'PLAIN' &&
      node.tag === undefined &&
      YAML12_NUMBER.test(value)
    ) {
      this.out.numbersAsText.set(path, { value: Number(value), float: /[.eE]/.test(value) });
    }
    return value as YamlValue;
  }

  /** The key/value nodes of a mapping after SafeConstructor.flatten_mapping: merged pairs first, then its own. */
  private flatten(node: MapNode, path: string): FlatPair[] {
    const merged: FlatPair[] = [];
    const own: FlatPair[] = [];
    for (const pair of node.items) {
      const keyNode = this.deref(pair.key);
      if (isScalar(keyNode) && keyNode.value instanceof Unconstructable && keyNode.value.kind === 'merge') {
        merged.push(...this.mergedPairs(pair.value, path));
      } else {
        own.push({ key: pair.key, value: pair.value, own: true });
      }
    }
    return [...merged, ...own];
  }

  private mergedPairs(written: Node | null, path: string): FlatPair[] {
    const value = this.deref(written);
    if (isMap(value)) return this.flattenOnce(value as unknown as MapNode, path);
    if (isSeq(value)) {
      const lists = value.items.map((item) => {
        const sub = this.deref(item as Node | null);
        if (!isMap(sub)) {
          throw new ConstructError(`expected a mapping for merging, but found ${kindOf(sub)}`, sub ?? written, path);
        }
        return this.flattenOnce(sub as unknown as MapNode, path);
      });
      // Earlier mappings in the list win, so they go last.
      return lists.reverse().flat();
    }
    throw new ConstructError(
      `expected a mapping or list of mappings for merging, but found ${kindOf(value)}`,
      value ?? written,
      path,
    );
  }

  private flattenOnce(node: MapNode, path: string): FlatPair[] {
    if (this.inProgress.has(node as unknown as Node)) {
      const message = 'a mapping that merges itself (recursive alias) cannot be a config value';
      throw new ConstructError(message, node as unknown as Node, path);
    }
    this.inProgress.add(node as unknown as Node);
    try {
      return this.flatten(node, path).map((p) => ({ ...p, own: false }));
    } finally {
      this.inProgress.delete(node as unknown as Node);
    }
  }

  private mapping(node: MapNode, path: string): YamlMapping {
    const entries = new Map<string, [YamlValue, YamlValue]>();
    const ownLines = new Map<string, number>();
    for (const pair of this.flatten(node, path)) {
      const key = this.key(pair.key, path);
      const id = keyIdentity(key);
      const child = joinPath(path, keyName(key));
      const line = this.line(pair.key);
      if (pair.own && line !== undefined) {
        const previous = ownLines.get(id);
        if (previous !== undefined) this.out.duplicates.push({ path: child, lines: [previous, line] });
        ownLines.set(id, line);
      }
      if (line !== undefined) this.out.lines.set(child, line);
      const value = this.construct(pair.value, child);
      const existing = entries.get(id);
      // Like a dict: a repeated key keeps its first spelling and position, and takes the new value.
      if (existing) existing[1] = value;
      else entries.set(id, [key, value]);
    }
    return new YamlMapping([...entries.values()]);
  }

  private key(written: Node | null, path: string): YamlValue {
    const node = this.deref(written);
    // `=` as a key is the text "=" (flatten_mapping retags it as a string).
    if (isScalar(node) && node.value instanceof Unconstructable && node.value.kind === 'value') return '=';
    if (isMap(node) || isSeq(node)) throw new ConstructError('found unhashable key', written, path);
    const keyPath = `${path}.<key>`;
    const key = this.construct(written, keyPath);
    this.out.texts.delete(keyPath);
    this.out.numbersAsText.delete(keyPath);
    return key;
  }
}

interface MapNode {
  items: Pair<Node | null, Node | null>[];
  tag?: string;
  range?: [number, number, number];
}

interface FlatPair {
  key: Node | null;
  value: Node | null;
  own: boolean;
}
