/**
 * Streaming readers for CloudTrail records, in every shape they come in:
 *
 * - LookupEvents output: `{"Events":[{"CloudTrailEvent":"<record as a JSON string>"}], "NextToken":...}`
 * - trail log files: `{"Records":[...]}` (`.json` or `.json.gz`, as CloudTrail writes them to S3)
 * - JSON lines: one record (or one LookupEvents event, or one trail file) per line
 * - a bare JSON array of any of these, and folders of such files (recursively)
 *
 * Memory stays flat: JSON lines are read line by line; a big `{"Records":[...]}` or `[...]` is cut into
 * array elements by a small structural scanner (strings, depth, line numbers) and each element goes to
 * `JSON.parse` alone. Gzip is detected from the magic bytes, not the file name.
 *
 * A damaged record is reported (file and line) and skipped; the records around it are still read.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, constants as zlibConstants } from 'node:zlib';
import type { CloudTrailRecord } from './types';

export class RecordReadError extends Error {
  override readonly name = 'RecordReadError';

  constructor(
    readonly file: string,
    /** 1-based line of the record (or of the failure); 0 when the file could not be opened. */
    readonly line: number,
    readonly reason: string,
    /** True when the rest of the file could not be read. */
    readonly fatal: boolean,
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
  }
}

export interface ReadItem {
  record: CloudTrailRecord;
  file: string;
  line: number;
}

/** Updated while reading, so a caller can show progress from a timer. */
export interface ReadProgress {
  /** Bytes read from disk or the stream (compressed bytes for gzip). */
  bytesRead: number;
  /** Sum of the input files' sizes, when known. */
  totalBytes: number;
  records: number;
  errors: number;
  /** Files (or streams) that yielded at least one record. */
  filesRead: number;
}

export interface ReadOptions {
  /** Called for every bad file or record; reading goes on. Default: ignore. */
  onError?: (error: RecordReadError) => void;
  progress?: ReadProgress;
}

export function newProgress(): ReadProgress {
  return { bytesRead: 0, totalBytes: 0, records: 0, errors: 0, filesRead: 0 };
}

/** File names a folder walk picks up; a file named explicitly is read whatever its name. */
const RECORD_FILE = /\.(json|jsonl|ndjson)(\.gz)?$|\.gz$/i;
const CHUNK_BYTES = 1 << 20;

/**
 * Expands the given paths (files or folders, recursively) into the list of files to read, sorted so that
 * trail files come in time order. Paths that cannot be read are reported, not thrown.
 */
export async function listInputFiles(
  paths: readonly string[],
): Promise<{ files: { file: string; size: number }[]; errors: RecordReadError[] }> {
  const files: { file: string; size: number }[] = [];
  const errors: RecordReadError[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      errors.push(new RecordReadError(dir, 0, describeIoError(error), true));
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && RECORD_FILE.test(entry.name)) {
        files.push({ file: full, size: (await stat(full).catch(() => ({ size: 0 }))).size });
      }
    }
  };
  for (const input of paths) {
    try {
      const info = await stat(input);
      if (info.isDirectory()) await walk(input);
      else files.push({ file: input, size: info.size });
    } catch (error) {
      errors.push(new RecordReadError(input, 0, describeIoError(error), true));
    }
  }
  return { files, errors };
}

function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return (error as Error).message;
}

/**
 * Reads every record of the given files and folders, in order, a batch (one chunk of input) at a time:
 * the fast path for big inputs, with one await per chunk instead of one per record.
 */
export async function* readRecordBatches(
  paths: readonly string[],
  options: ReadOptions = {},
): AsyncGenerator<ReadItem[]> {
  const progress = options.progress ?? newProgress();
  const withProgress = { ...options, progress };
  const { files, errors } = await listInputFiles(paths);
  for (const error of errors) report(error, withProgress);
  progress.totalBytes += files.reduce((sum, f) => sum + f.size, 0);
  for (const { file, size } of files) {
    if (size === 0) {
      report(new RecordReadError(file, 0, 'empty file', true), withProgress);
      continue;
    }
    yield* readStreamBatches(createReadStream(file, { highWaterMark: CHUNK_BYTES }), file, withProgress);
  }
}

/** Reads every record of the given files and folders, in order, one at a time. */
export async function* readRecords(
  paths: readonly string[],
  options: ReadOptions = {},
): AsyncGenerator<ReadItem> {
  for await (const batch of readRecordBatches(paths, options)) {
    for (const item of batch) yield item;
  }
}

/**
 * Reads the records of one byte stream (a file, an S3 object body) in batches. `name` labels errors.
 * Gzip-compressed input is detected and decompressed.
 */
export async function* readStreamBatches(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  name: string,
  options: ReadOptions = {},
): AsyncGenerator<ReadItem[]> {
  const progress = options.progress ?? newProgress();
  const withProgress = { ...options, progress };
  let yielded = 0;
  let lastLine = 0;
  const errorAt = (line: number, reason: string, fatal = false) =>
    report(new RecordReadError(name, line, reason, fatal), withProgress);

  try {
    const text = decodeText(decompress(countBytes(source, progress)));
    const head = await readHead(text);
    if (head.trim() === '') {
      errorAt(0, 'empty input: no JSON found', true);
      return;
    }
    const parser = chooseParser(head);
    for await (const parsed of parser(prepend(head, text))) {
      const batch: ReadItem[] = [];
      let fatal = false;
      for (const item of parsed) {
        lastLine = item.line;
        if ('error' in item) {
          errorAt(item.line, item.error, item.fatal);
          if (item.fatal) {
            fatal = true;
            break;
          }
          continue;
        }
        for (const value of unwrap(item.value)) {
          if (typeof value === 'string') errorAt(item.line, value);
          else batch.push({ record: value, file: name, line: item.line });
        }
      }
      if (batch.length > 0) {
        if (yielded === 0) progress.filesRead++;
        yielded += batch.length;
        progress.records += batch.length;
        yield batch;
      }
      if (fatal) return;
    }
  } catch (error) {
    errorAt(lastLine, `read failed: ${describeStreamError(error)}`, true);
  }
}

/** Reads the records of one byte stream one at a time (see `readStreamBatches`). */
export async function* readRecordStream(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  name: string,
  options: ReadOptions = {},
): AsyncGenerator<ReadItem> {
  for await (const batch of readStreamBatches(source, name, options)) {
    for (const item of batch) yield item;
  }
}

function report(error: RecordReadError, options: ReadOptions & { progress: ReadProgress }): void {
  options.progress.errors++;
  options.onError?.(error);
}

/** Enough of the start to choose a parser: through the first line break after content, or 64 KB. */
async function readHead(text: AsyncGenerator<string>): Promise<string> {
  let head = '';
  for (;;) {
    const content = head.trimStart();
    if (content !== '' && (content.includes('\n') || content.length >= 65_536)) return head;
    const next = await text.next();
    if (next.done) return head;
    head += next.value;
  }
}

function describeStreamError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(String(error))) {
    return `damaged gzip data (${(error as Error).message})`;
  }
  return describeIoError(error);
}

async function* countBytes(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  progress: ReadProgress,
): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    const buffer =
      typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    progress.bytesRead += buffer.length;
    yield buffer;
  }
}

/** Passes bytes through, gunzipping them when the stream starts with the gzip magic number. */
async function* decompress(source: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  // The magic number is two bytes; a stream may hand them out one at a time.
  let head: Buffer = Buffer.alloc(0);
  while (head.length < 2) {
    const next = await source.next();
    if (next.done) break;
    head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
  }
  if (head.length === 0) return;
  async function* whole(): AsyncGenerator<Buffer> {
    yield head;
    yield* source;
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = pipeline(
      Readable.from(whole()),
      createGunzip({
        chunkSize: CHUNK_BYTES,
        // A truncated download still yields its complete records; the scanner then reports the cut.
        finishFlush: zlibConstants.Z_SYNC_FLUSH,
      }),
      () => {
        // Errors surface through the iteration of the gunzip stream below.
      },
    );
    for await (const chunk of gunzip) yield chunk as Buffer;
    return;
  }
  yield* whole();
}

/** UTF-8 text chunks, with characters split across chunks reassembled and a leading BOM dropped. */
async function* decodeText(source: AsyncGenerator<Buffer>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let first = true;
  for await (const chunk of source) {
    let text = decoder.write(chunk);
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    if (text.length > 0) yield text;
  }
  const rest = decoder.end();
  if (rest.length > 0) yield rest;
}

async function* prepend(head: string, rest: AsyncGenerator<string>): AsyncGenerator<string> {
  try {
    yield head;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Stopping early (a fatal error) must still close the file or stream underneath.
    await rest.return(undefined);
  }
}

type ParsedItem = { value: unknown; line: number } | { error: string; line: number; fatal: boolean };
type Parser = (text: AsyncIterable<string>) => AsyncGenerator<ParsedItem[]>;

const WRAPPER_START = /^\s*\{\s*"(Records|Events|NextToken)"\s*:/;

/**
 * JSON lines when the input starts with a complete object on its first line; the structural scanner
 * for wrappers (`{"Records":...}`), arrays and pretty-printed JSON.
 */
function chooseParser(head: string): Parser {
  const start = head.trimStart();
  if (start.startsWith('[') || WRAPPER_START.test(start)) return scanJson;
  if (!start.startsWith('{')) return scanJson;
  const newline = start.indexOf('\n');
  if (newline < 0) return scanJson;
  const firstLine = start.slice(0, newline).trim();
  return firstLine === '{' ? scanJson : readJsonLines;
}

/** One JSON value per line; blank lines skipped; a bad line is an error and reading goes on. */
async function* readJsonLines(text: AsyncIterable<string>): AsyncGenerator<ParsedItem[]> {
  let pending = '';
  let line = 0;
  for await (const chunk of text) {
    const data = pending === '' ? chunk : pending + chunk;
    const batch: ParsedItem[] = [];
    let start = 0;
    for (let end = data.indexOf('\n'); end >= 0; end = data.indexOf('\n', start)) {
      line++;
      const item = parseLine(data, start, end, line);
      if (item) batch.push(item);
      start = end + 1;
    }
    pending = data.slice(start);
    if (batch.length > 0) yield batch;
  }
  if (pending.trim() !== '') {
    const item = parseLine(pending, 0, pending.length, line + 1);
    if (item) yield [item];
  }
}

function parseLine(data: string, start: number, end: number, line: number): ParsedItem | undefined {
  let text = data.slice(start, end);
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (text.trim() === '') return undefined;
  try {
    return { value: JSON.parse(text), line };
  } catch (error) {
    return { error: `invalid JSON (${(error as Error).message})`, line, fatal: false };
  }
}

// Character codes the scanner switches on.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const NEWLINE = 0x0a;
const COLON = 0x3a;
const COMMA = 0x2c;

/** Index just past the closing quote of the string whose opening quote is at `open`, or -1 if not in `text`. */
function skipString(text: string, open: number): number {
  let at = open + 1;
  for (;;) {
    const quote = text.indexOf('"', at);
    if (quote < 0) return -1;
    let backslashes = 0;
    for (let i = quote - 1; i > open && text.charCodeAt(i) === BACKSLASH; i--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    at = quote + 1;
  }
}

/**
 * The structural scanner. It walks the text once, tracking depth, strings and line numbers, and cuts out:
 * - each top-level value that is a record (concatenated or pretty-printed JSON objects),
 * - each element of a top-level array,
 * - each element of the `Records` / `Events` array of a top-level wrapper object (other keys skipped).
 * Only the element being cut out is kept in memory; each goes to JSON.parse on its own.
 */
async function* scanJson(text: AsyncIterable<string>): AsyncGenerator<ParsedItem[]> {
  let buf = '';
  let pos = 0;
  let line = 1;
  /** Containers currently open. */
  let depth = 0;
  /** Depth whose values are cut out as elements (1: top-level array, 2: a wrapper's array); 0: none. */
  let elementDepth = 0;
  /** Start in `buf` of the element (or top-level record) being cut out; -1 when none. */
  let elementStart = -1;
  let elementLine = 0;
  /** Start of a top-level object whose first key (record or wrapper?) has not been read yet. */
  let undecidedStart = -1;
  let top: 'none' | 'array' | 'wrapper' | 'record' = 'none';
  /** In a wrapper at depth 1: whether the next string is a key, and the last key read. */
  let expectKey = false;
  let currentKey = '';
  /** Elements cut out so far: names a record in a one-line trail file, where the line says little. */
  let elements = 0;

  for await (const chunk of text) {
    const batch: ParsedItem[] = [];
    // Keep what is still needed (the element being cut, or an unfinished string) and drop the rest.
    const keepFrom = elementStart >= 0 ? elementStart : undecidedStart >= 0 ? undecidedStart : pos;
    buf = buf.slice(keepFrom) + chunk;
    pos -= keepFrom;
    if (elementStart >= 0) elementStart -= keepFrom;
    if (undecidedStart >= 0) undecidedStart -= keepFrom;
    const length = buf.length;

    while (pos < length) {
      const c = buf.charCodeAt(pos);
      if (c === QUOTE) {
        const end = skipString(buf, pos);
        if (end < 0) break; // the string goes on in the next chunk: resume at its quote
        if (depth === 1 && undecidedStart >= 0) {
          // The first key of a top-level object decides: a wrapper's keys are known, else it is a record.
          const key = buf.slice(pos + 1, end - 1);
          if (key === 'Records' || key === 'Events' || key === 'NextToken') {
            top = 'wrapper';
            currentKey = key;
          } else {
            top = 'record';
            elementStart = undecidedStart;
          }
          undecidedStart = -1;
        } else if (depth === 1 && top === 'wrapper' && expectKey) {
          currentKey = buf.slice(pos + 1, end - 1);
          expectKey = false;
        }
        pos = end;
        continue;
      }
      pos++;
      if (c === NEWLINE) {
        line++;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (depth === 0) {
          elementLine = line;
          if (c === OPEN_BRACKET) {
            top = 'array';
            elementDepth = 1;
          } else {
            top = 'none';
            elementDepth = 0;
            undecidedStart = pos - 1;
          }
        } else if (depth === 1 && top === 'wrapper' && c === OPEN_BRACKET) {
          elementDepth = currentKey === 'Records' || currentKey === 'Events' ? 2 : 0;
        } else if (depth === elementDepth && elementStart < 0) {
          elementStart = pos - 1;
          elementLine = line;
        }
        depth++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth--;
        if (depth < 0) {
          batch.push({ error: `unexpected "${String.fromCharCode(c)}"`, line, fatal: true });
          yield batch;
          return;
        }
        if (elementStart >= 0 && depth === (top === 'record' ? 0 : elementDepth)) {
          elements++;
          batch.push(parseElement(buf.slice(elementStart, pos), elementLine, elements));
          elementStart = -1;
        } else if (undecidedStart >= 0 && depth === 0) {
          batch.push({ error: 'empty object, not a CloudTrail record', line: elementLine, fatal: false });
          undecidedStart = -1;
        }
        if (depth === 1 && top === 'wrapper') elementDepth = 0;
        if (depth === 0) top = 'none';
      } else if (depth === 1 && top === 'wrapper') {
        if (c === COMMA) expectKey = true;
      } else if (c > 0x20 && c !== COMMA && c !== COLON) {
        if (depth === 0) {
          batch.push({ error: `not JSON: unexpected "${buf[pos - 1]}"`, line, fatal: true });
          yield batch;
          return;
        }
        if (depth === elementDepth && elementStart < 0) {
          // A scalar where a record should be (a number, true, null...).
          let end = pos;
          while (end < length && !SCALAR_END.test(buf[end])) end++;
          batch.push({ error: `expected an object, found ${buf.slice(pos - 1, end)}`, line, fatal: false });
          pos = end;
        }
      }
    }
    if (batch.length > 0) yield batch;
  }
  if (depth > 0 || elementStart >= 0 || undecidedStart >= 0 || pos < buf.length) {
    yield [{ error: 'unexpected end of input (truncated file?)', line: elementLine || line, fatal: true }];
  }
}

const SCALAR_END = /[\s,\]}]/;

function parseElement(text: string, line: number, index: number): ParsedItem {
  try {
    return { value: JSON.parse(text), line };
  } catch (error) {
    return { error: `record #${index}: invalid JSON (${(error as Error).message})`, line, fatal: false };
  }
}

/**
 * The records inside one parsed value: a record itself, a LookupEvents event (its `CloudTrailEvent`
 * string), or a whole trail file / LookupEvents page. Strings in the result are errors.
 */
export function unwrap(value: unknown): (CloudTrailRecord | string)[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return ['expected an object'];
  }
  const object = value as Record<string, unknown>;
  if (typeof object.CloudTrailEvent === 'string') {
    try {
      return [checkRecord(JSON.parse(object.CloudTrailEvent))];
    } catch (error) {
      return [`CloudTrailEvent is not valid JSON (${(error as Error).message})`];
    }
  }
  if (Array.isArray(object.Records)) return object.Records.flatMap(unwrap);
  if (Array.isArray(object.Events)) return object.Events.flatMap(unwrap);
  return [checkRecord(object)];
}

function checkRecord(value: unknown): CloudTrailRecord | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected an object';
  const record = value as Record<string, unknown>;
  if (typeof record.eventName !== 'string' || typeof record.eventSource !== 'string') {
    return 'not a CloudTrail record (no eventName or eventSource)';
  }
  return record as CloudTrailRecord;
}
