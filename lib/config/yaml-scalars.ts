/**
 * Scalar resolution of PyYAML's SafeLoader (`yaml.safe_load`, scPortrait's config reader), as tags for the `yaml`
 * package: the implicit resolvers' regexes (PyYAML resolver.py, Debian python3-yaml 6.0) decide the type of a plain
 * scalar, and the constructors (constructor.py) its value. Anything no resolver claims is a string: `.`, `1e-3`,
 * `+.5`, `None`, `09`.
 *
 * Ints arrive as bigint and floats as number, so `4` and `4.0` stay apart (scPortrait slices with ints and rejects
 * floats there). What PyYAML cannot construct (a bare `=` or `<<` value, `2001-02-30`, `!!int abc`) resolves to an
 * {@link Unconstructable} marker; the document reader reports it with its key path and line, since only it knows
 * whether `<<`/`=` stood as a key (merge / the text "=") or as a value (PyYAML fails).
 */
import type { ScalarTag } from 'yaml';

const TAG = 'tag:yaml.org,2002:';

// The regexes of PyYAML's Resolver, alternatives joined as written there.
const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const MERGE = /^(?:<<)$/;
const NULL = /^(?:~|null|Null|NULL|)$/;
const TIMESTAMP =
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;
const VALUE = /^(?:=)$/;

/** A `datetime.date` or `datetime.datetime` as PyYAML constructs it, kept as Python's `isoformat()`. */
export class YamlTimestamp {
  constructor(
    readonly iso: string,
    readonly hasTime: boolean,
  ) {}

  /** Python's `str()`: a space between date and time. */
  toString(): string {
    return this.iso.replace('T', ' ');
  }
}

/** A scalar SafeLoader has no value for: the merge (`<<`) or value (`=`) tag outside a key, or a failed constructor. */
export class Unconstructable {
  constructor(
    readonly kind: 'merge' | 'value' | 'invalid',
    /** PyYAML's wording of the failure. */
    readonly message: string,
  ) {}
}

const noConstructor = (tag: string) => `could not determine a constructor for the tag '${TAG}${tag}'`;
export const MERGE_KEY = new Unconstructable('merge', noConstructor('merge'));
export const VALUE_KEY = new Unconstructable('value', noConstructor('value'));

const invalid = (message: string) => new Unconstructable('invalid', message);

const BOOL_VALUES: Readonly<Record<string, boolean>> = {
  yes: true,
  no: false,
  true: true,
  false: false,
  on: true,
  off: false,
};

function constructBool(text: string): boolean | Unconstructable {
  const value = BOOL_VALUES[text.toLowerCase()];
  return value ?? invalid(`no boolean value for '${text}'`);
}

const DIGITS: Readonly<Record<number, RegExp>> = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ };
const PREFIX: Readonly<Record<number, string>> = { 2: '0b', 8: '0o', 10: '', 16: '0x' };

/** Python's `int(text, base)` for the digit strings PyYAML passes it. */
function pyInt(text: string, base: 2 | 8 | 10 | 16): bigint | Unconstructable {
  if (!DIGITS[base].test(text)) return invalid(`invalid literal for int() with base ${base}: '${text}'`);
  return BigInt(`${PREFIX[base]}${text}`);
}

/** SafeConstructor.construct_yaml_int. */
function constructInt(text: string): bigint | Unconstructable {
  let value = text.replaceAll('_', '');
  const sign = value.startsWith('-') ? -1n : 1n;
  if (value.startsWith('-') || value.startsWith('+')) value = value.slice(1);
  let magnitude: bigint | Unconstructable;
  if (value === '0') return 0n;
  if (value.startsWith('0b')) magnitude = pyInt(value.slice(2), 2);
  else if (value.startsWith('0x')) magnitude = pyInt(value.slice(2), 16);
  else if (value.startsWith('0')) magnitude = pyInt(value, 8);
  else if (value.includes(':')) {
    magnitude = 0n;
    for (const part of value.split(':')) {
      const digit = pyInt(part, 10);
      if (digit instanceof Unconstructable) return digit;
      magnitude = magnitude * 60n + digit;
    }
  } else magnitude = pyInt(value, 10);
  return magnitude instanceof Unconstructable ? magnitude : sign * magnitude;
}

// Python's float() syntax (after PyYAML lower-cased the text and took its sign off).
const PY_FLOAT = /^\s*[-+]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[-+]?[0-9]+)?|inf|infinity|nan)\s*$/;

function pyFloat(text: string): number | Unconstructable {
  if (!PY_FLOAT.test(text)) return invalid(`could not convert string to float: '${text}'`);
  const t = text.trim().replace(/^\+/, '');
  if (/^-?inf(inity)?$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^-?nan$/.test(t)) return Number.NaN;
  return Number(t);
}

/** SafeConstructor.construct_yaml_float. */
function constructFloat(text: string): number | Unconstructable {
  let value = text.replaceAll('_', '').toLowerCase();
  const sign = value.startsWith('-') ? -1 : 1;
  if (value.startsWith('-') || value.startsWith('+')) value = value.slice(1);
  if (value === '.inf') return sign * Infinity;
  if (value === '.nan') return Number.NaN;
  if (value.includes(':')) {
    let total = 0;
    for (const part of value.split(':')) {
      const digit = pyFloat(part);
      if (digit instanceof Unconstructable) return digit;
      total = total * 60 + digit;
    }
    return sign * total;
  }
  const magnitude = pyFloat(value);
  return magnitude instanceof Unconstructable ? magnitude : sign * magnitude;
}

// SafeConstructor.timestamp_regexp: laxer than the resolver's (it also serves `!!timestamp`).
const TIMESTAMP_PARTS =
  /^(?<year>[0-9]{4})-(?<month>[0-9][0-9]?)-(?<day>[0-9][0-9]?)(?:(?:[Tt]|[ \t]+)(?<hour>[0-9][0-9]?):(?<minute>[0-9][0-9]):(?<second>[0-9][0-9])(?:\.(?<fraction>[0-9]*))?(?:[ \t]*(?<tz>Z|(?<tzSign>[-+])(?<tzHour>[0-9][0-9]?)(?::(?<tzMinute>[0-9][0-9]))?))?)?$/;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** SafeConstructor.construct_yaml_timestamp, with the range checks of Python's datetime. */
function constructTimestamp(text: string): YamlTimestamp | Unconstructable {
  const g = TIMESTAMP_PARTS.exec(text)?.groups;
  if (!g) return invalid(`'${text}' is not a timestamp`);
  const [year, month, day] = [Number(g.year), Number(g.month), Number(g.day)];
  if (year < 1) return invalid(`year ${year} is out of range`);
  if (month < 1 || month > 12) return invalid('month must be in 1..12');
  if (day < 1 || day > daysInMonth(year, month)) return invalid('day is out of range for month');
  const date = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
  if (g.hour === undefined) return new YamlTimestamp(date, false);
  const [hour, minute, second] = [Number(g.hour), Number(g.minute), Number(g.second)];
  if (hour > 23) return invalid('hour must be in 0..23');
  if (minute > 59) return invalid('minute must be in 0..59');
  if (second > 59) return invalid('second must be in 0..59');
  let iso = `${date}T${pad(hour)}:${pad(minute)}:${pad(second)}`;
  const micro = Number((g.fraction ?? '').slice(0, 6).padEnd(6, '0'));
  if (micro > 0) iso += `.${pad(micro, 6)}`;
  if (g.tzSign !== undefined) {
    const minutes = (g.tzSign === '-' ? -1 : 1) * (Number(g.tzHour) * 60 + Number(g.tzMinute ?? 0));
    if (Math.abs(minutes) >= 24 * 60) return invalid('offset must be a timedelta strictly between -24 and 24 hours');
    const abs = Math.abs(minutes);
    iso += `${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  } else if (g.tz === 'Z') iso += '+00:00';
  return new YamlTimestamp(iso, true);
}

interface Resolver {
  tag: string;
  test: RegExp;
  construct: (text: string) => unknown;
}

// In PyYAML's order (no two of these patterns match the same text, so the order only mirrors the original).
const RESOLVERS: readonly Resolver[] = [
  { tag: 'bool', test: BOOL, construct: constructBool },
  { tag: 'float', test: FLOAT, construct: constructFloat },
  { tag: 'int', test: INT, construct: constructInt },
  { tag: 'merge', test: MERGE, construct: () => MERGE_KEY },
  { tag: 'null', test: NULL, construct: () => null },
  { tag: 'timestamp', test: TIMESTAMP, construct: constructTimestamp },
  { tag: 'value', test: VALUE, construct: () => VALUE_KEY },
];

/** What SafeLoader makes of an untagged plain scalar (or one tagged with the non-specific `!`). */
export function resolvePlainScalar(text: string): unknown {
  const resolver = RESOLVERS.find((r) => r.test.test(text));
  return resolver ? resolver.construct(text) : text;
}

/**
 * The `customTags` for a `failsafe` schema: per resolver an implicit tag (claims plain scalars by regex) and an
 * explicit one (`!!int "1"`: PyYAML runs the constructor on any text, quoted or not). The `yaml` package picks the
 * first tag of a name without a `test` for explicit tags, so the implicit ones never see tagged text.
 */
export const PYYAML_SCALAR_TAGS: readonly ScalarTag[] = RESOLVERS.flatMap((r): ScalarTag[] => {
  const implicit: ScalarTag = { tag: `${TAG}${r.tag}`, default: true, test: r.test, resolve: r.construct };
  if (r.tag === 'merge' || r.tag === 'value') return [implicit];
  return [implicit, { tag: `${TAG}${r.tag}`, resolve: r.construct }];
});

/**
 * How to write a YAML 1.2 / JSON number (`1e-3`, `+.5`, `09`) so that PyYAML reads it as one: floats need a digit
 * before the dot, a dot, and a signed exponent (`1.0e-3`); ints no leading zero (which would make them octal).
 */
export function pyYamlNumberSpelling(text: string): string {
  const m = /^([-+]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([-+]?)([0-9]+))?$/.exec(text);
  if (!m) return text;
  const [, sign, whole, fraction, expSign, exponent] = m;
  const minus = sign === '-' ? '-' : '';
  if (fraction === undefined && exponent === undefined) return `${minus}${whole.replace(/^0+(?=.)/, '')}`;
  const mantissa = `${minus}${whole.replace(/^0+(?=.)/, '') || '0'}.${fraction || '0'}`;
  return exponent === undefined ? mantissa : `${mantissa}e${expSign || '+'}${exponent}`;
}
