/**
 * The CSV files of a batch run: the plate list read by `scseg segment --batch plate.csv` and the `batch.csv`
 * summary written next to the results.
 *
 * Plate list: a header row with a column `name` (the image's results folder) and, in the other columns in order,
 * the image's channel files — or one multi-channel file. Paths are relative to the CSV's folder unless absolute;
 * trailing empty cells are allowed (images with fewer files than others). RFC 4180 syntax: quoted fields may hold
 * commas, quotes ("") and line breaks; LF or CRLF line ends; a UTF-8 byte-order mark is skipped; blank lines are
 * skipped; unquoted fields are trimmed. Every error names the file and line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { errorMessage, IO_NOT_FOUND } from './source.js';

export const BATCH_CSV_ERROR = 'ERR_SCSEG_BATCH_CSV';

/** One image of a batch: its results folder name and its file(s). */
export interface BatchImage {
  name: string;
  /** Channel files in channel order, or one multi-channel file. */
  files: string[];
  /** Line of the plate CSV the image is listed on (absent for images given in code). */
  line?: number;
}

export interface CsvRecord {
  /** 1-based line the record starts on. */
  line: number;
  fields: string[];
}

/** Splits CSV text into records (RFC 4180; LF or CRLF; blank lines dropped). `where` prefixes error messages. */
export function parseCsv(text: string, where: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  const fail = (at: number, message: string): never => {
    throw new InputError(`${where}:${at}: ${message}`, BATCH_CSV_ERROR);
  };
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let blank = true;
    for (;;) {
      // One field.
      let field = '';
      let j = i;
      while (j < n && (text[j] === ' ' || text[j] === '\t')) j++;
      if (text[j] === '"') {
        blank = false;
        const opened = line;
        j++;
        for (;;) {
          if (j >= n) fail(opened, 'unterminated quoted field (a " opens it but none closes it)');
          const c = text[j];
          if (c === '"') {
            if (text[j + 1] === '"') {
              field += '"';
              j += 2;
              continue;
            }
            j++;
            break;
          }
          if (c === '\n') line++;
          field += c;
          j++;
        }
        while (j < n && (text[j] === ' ' || text[j] === '\t')) j++;
        if (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') {
          fail(line, `unexpected ${JSON.stringify(text[j])} after a closing quote (quote the whole field, with "" for a quote inside)`);
        }
      } else {
        j = i;
        while (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') {
          if (text[j] === '"') fail(line, 'a quote inside an unquoted field (quote the whole field, with "" for a quote inside)');
          j++;
        }
        field = text.slice(i, j).trim();
        if (field !== '') blank = false;
      }
      fields.push(field);
      if (j < n && text[j] === ',') {
        blank = false;
        i = j + 1;
        continue;
      }
      // End of record: \n, \r\n, a lone \r, or the end of the text.
      const end = j;
      if (text[j] === '\r') j++;
      if (text[j] === '\n') j++;
      if (j > end) line++;
      i = j;
      break;
    }
    if (!blank) records.push({ line: start, fields });
  }
  return records;
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
/** Characters no folder name may hold on Linux, macOS or Windows (and control characters). */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[<>:"/\\|?*\u0000-\u001f\u007f]/;

/** Why `name` cannot be a results folder name, or null when it can. */
export function folderNameProblem(name: string): string | null {
  if (name === '') return 'is empty';
  const bad = FORBIDDEN.exec(name);
  if (bad) return `holds ${JSON.stringify(bad[0])}, which a folder name cannot hold (nor any of < > : " / \\ | ? * or control characters)`;
  if (name.startsWith('.')) return 'starts with "." (hidden, or a path like ".." )';
  if (name !== name.trim() || name.endsWith('.')) return 'starts or ends with a space, or ends with "."';
  if (WINDOWS_RESERVED.test(name)) return 'is a reserved device name on Windows';
  if (Buffer.byteLength(name, 'utf8') > 255) return 'is longer than 255 bytes';
  if (name.toLowerCase() === 'batch.csv') return 'is the summary file\'s name';
  return null;
}

/**
 * Checks a batch's names: each safe as a folder name and unique (ignoring case, as macOS and Windows do).
 * `where(image)` locates an image in messages (e.g. "plate.csv:7").
 */
export function checkBatchNames(images: readonly BatchImage[], where: (image: BatchImage, index: number) => string): void {
  const seen = new Map<string, number>();
  images.forEach((image, i) => {
    const problem = folderNameProblem(image.name);
    if (problem) throw new InputError(`${where(image, i)}: name ${JSON.stringify(image.name)} ${problem}`, BATCH_CSV_ERROR);
    const key = image.name.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      throw new InputError(
        `${where(image, i)}: name ${JSON.stringify(image.name)} is used twice (also at ${where(images[first], first)}); ` +
          'each image needs its own results folder',
        BATCH_CSV_ERROR,
      );
    }
    seen.set(key, i);
  });
}

/** Reads a plate list (see the module comment). Paths come back resolved against the CSV's folder. */
export function readBatchCsv(file: string): BatchImage[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read: ${errorMessage(e)}`, IO_NOT_FOUND, { cause: e },
    );
  }
  const records = parseCsv(text, file);
  if (records.length === 0) throw new InputError(`${file}: empty; expected a header row with a "name" column`, BATCH_CSV_ERROR);
  const header = records[0];
  const columns = header.fields.map((f) => f.trim());
  const nameColumn = columns.findIndex((c) => c.toLowerCase() === 'name');
  if (nameColumn < 0) {
    throw new InputError(
      `${file}:${header.line}: the header row (${columns.join(', ')}) has no "name" column; ` +
        'expected e.g. "name,nucleus,cytosol" (name = results folder, then the image\'s channel files)',
      BATCH_CSV_ERROR,
    );
  }
  if (columns.length < 2) {
    throw new InputError(`${file}:${header.line}: the header row has no column for the image files besides "name"`, BATCH_CSV_ERROR);
  }
  const dir = path.dirname(path.resolve(file));
  const images: BatchImage[] = [];
  for (const r of records.slice(1)) {
    const at = `${file}:${r.line}`;
    if (r.fields.length > columns.length) {
      const extra = r.fields.slice(columns.length);
      if (extra.some((f) => f !== '')) {
        throw new InputError(`${at}: ${r.fields.length} cells, but the header has ${columns.length} columns`, BATCH_CSV_ERROR);
      }
    }
    const name = r.fields[nameColumn] ?? '';
    const cells = columns.map((_, c) => r.fields[c] ?? '').filter((_, c) => c !== nameColumn);
    let last = cells.length;
    while (last > 0 && cells[last - 1] === '') last--;
    const files = cells.slice(0, last);
    if (files.length === 0) throw new InputError(`${at}: image ${JSON.stringify(name)} lists no file`, BATCH_CSV_ERROR);
    const gap = files.indexOf('');
    if (gap >= 0) {
      const column = columns.filter((_, c) => c !== nameColumn)[gap];
      throw new InputError(
        `${at}: empty cell in column "${column}" before further files (channels would shift; only trailing cells may be empty)`,
        BATCH_CSV_ERROR,
      );
    }
    images.push({ name, files: files.map((f) => path.resolve(dir, f)), line: r.line });
  }
  if (images.length === 0) throw new InputError(`${file}: lists no image (only a header row)`, BATCH_CSV_ERROR);
  checkBatchNames(images, (image) => `${file}:${image.line}`);
  return images;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

export interface BatchSummaryRow {
  name: string;
  status: 'ok' | 'failed';
  cells?: number;
  seconds: number;
  error?: string;
}

/** The CSV text of a batch summary: header `name,status,cells,seconds,error`, one row per image in input order. */
export function formatBatchSummary(rows: readonly BatchSummaryRow[]): string {
  const lines = ['name,status,cells,seconds,error'];
  for (const r of rows) {
    const error = (r.error ?? '').replace(/\s*\r?\n\s*/g, '; ');
    lines.push([csvField(r.name), r.status, r.cells === undefined ? '' : String(r.cells), r.seconds.toFixed(3), csvField(error)].join(','));
  }
  return lines.join('\n') + '\n';
}

/** Writes the batch summary atomically (temp file, fsync, rename). */
export function writeBatchSummary(file: string, rows: readonly BatchSummaryRow[]): Promise<void> {
  return writeFileAtomic(file, formatBatchSummary(rows));
}
