import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  newProgress,
  type RecordReadError,
  readRecordBatches,
  readRecordStream,
  readRecords,
} from '../../lambdas/analyze/read-records';
import type { CloudTrailRecord } from '../../lambdas/analyze/types';
import { at, leakedKeyScenario, record } from '../fixtures/cloudtrail/scenario';

const FIXTURES = path.resolve(__dirname, '../fixtures/cloudtrail');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'read-records-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

async function readAll(paths: string[]) {
  const errors: RecordReadError[] = [];
  const items = [];
  for await (const item of readRecords(paths, { onError: (e) => errors.push(e) })) items.push(item);
  return { items, ids: items.map((i) => i.record.eventID), errors };
}

/** Records whose strings hold everything a naive splitter trips on: braces, quotes, escapes, UTF-8. */
function trickyRecords(count: number): CloudTrailRecord[] {
  return Array.from({ length: count }, (_, i) =>
    record('s3.amazonaws.com', 'PutObject', {
      eventID: `tricky-${i}`,
      eventTime: at(0, i % 60),
      userAgent: `agent "quoted" \\ back} {brace] [bracket] é 漢字 🔑 #${i}`,
      requestParameters: {
        key: `a/${'x'.repeat(i % 50)}/"}{][\\n`,
        nested: { list: [1, { deep: [`${i}`] }] },
      },
    }),
  );
}

/** A source that hands out `size`-byte slices: every boundary a chunked reader can meet. */
async function* inChunks(data: Buffer, size: number) {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe('readRecords: formats', () => {
  it('reads LookupEvents output, parsing each CloudTrailEvent string, with the line of each event', async () => {
    const { items, errors } = await readAll([path.join(FIXTURES, 'lookup-events.json')]);
    expect(errors).toEqual([]);
    expect(items).toHaveLength(leakedKeyScenario().length);
    expect(items[0].record.eventName).toBe('UpdateAccessKey');
    expect(items[0].line).toBe(3);
    expect(items.every((i) => i.line > 2)).toBe(true);
  });

  it('reads a one-line trail file and the same file gzipped, detected by its magic bytes', async () => {
    const trail = readFileSync(path.join(FIXTURES, 'trail-file.json'));
    const plain = await readAll([path.join(FIXTURES, 'trail-file.json')]);
    const gzipped = await readAll([write('AWSLogs/x.json.gz', gzipSync(trail))]);
    const misnamed = await readAll([write('no-extension', gzipSync(trail))]);
    expect(plain.ids).toHaveLength(5);
    expect(gzipped.ids).toEqual(plain.ids);
    expect(misnamed.ids).toEqual(plain.ids);
  });

  it('reads JSON lines, arrays, pretty-printed and concatenated objects, CRLF, and wrappers inside lines', async () => {
    const records = leakedKeyScenario().slice(0, 4);
    const ids = records.map((r) => r.eventID);
    const lines = await readAll([write('a.jsonl', records.map((r) => JSON.stringify(r)).join('\r\n'))]);
    const array = await readAll([write('b.json', JSON.stringify(records, null, 2))]);
    const pretty = await readAll([
      write('c.json', records.map((r) => JSON.stringify(r, null, 2)).join('\n')),
    ]);
    const wrappers = await readAll([
      write(
        'd.jsonl',
        `${JSON.stringify({ Records: records.slice(0, 2) })}\n${JSON.stringify({ Records: records.slice(2) })}\n`,
      ),
    ]);
    const tokenFirst = await readAll([
      write(
        'e.json',
        JSON.stringify({
          NextToken: 'x]}{"',
          Events: records.map((r) => ({ CloudTrailEvent: JSON.stringify(r) })),
        }),
      ),
    ]);
    for (const result of [lines, array, pretty, wrappers, tokenFirst]) {
      expect(result.errors).toEqual([]);
      expect(result.ids).toEqual(ids);
    }
    const starts: number[] = [];
    let next = 1;
    for (const r of records) {
      starts.push(next);
      next += JSON.stringify(r, null, 2).split('\n').length;
    }
    expect(pretty.items.map((i) => i.line)).toEqual(starts);
    expect(lines.items.map((i) => i.line)).toEqual([1, 2, 3, 4]);
  });

  it('cuts records correctly at every chunk boundary, in both parsers, even inside strings and UTF-8 characters', async () => {
    const records = trickyRecords(12);
    const wrapped = Buffer.from(JSON.stringify({ Records: records }));
    const lines = Buffer.from(`${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
    for (const data of [wrapped, lines, gzipSync(wrapped)]) {
      for (const size of [1, 3, 7, 64, 1000]) {
        const read: CloudTrailRecord[] = [];
        const errors: RecordReadError[] = [];
        for await (const item of readRecordStream(inChunks(data, size), 'chunks', {
          onError: (e) => errors.push(e),
        })) {
          read.push(item.record);
        }
        expect(errors).toEqual([]);
        expect(read).toEqual(records);
      }
    }
  });
});

describe('readRecords: streaming', () => {
  it('hands out records of a big Records array before the rest of the input has been read', async () => {
    const records = trickyRecords(2000);
    const data = Buffer.from(JSON.stringify({ Records: records }));
    let chunksRead = 0;
    async function* source() {
      for await (const chunk of inChunks(data, 16 * 1024)) {
        chunksRead++;
        yield chunk;
      }
    }
    const total = Math.ceil(data.length / (16 * 1024));
    let readWhenFirstRecordArrived = 0;
    let count = 0;
    for await (const _ of readRecordStream(source(), 'stream')) {
      if (count === 0) readWhenFirstRecordArrived = chunksRead;
      count++;
    }
    expect(count).toBe(2000);
    expect(total).toBeGreaterThan(50);
    // The reader looks at up to 64 KB to choose a parser, then hands records out chunk by chunk.
    expect(readWhenFirstRecordArrived).toBeLessThanOrEqual(65_536 / (16 * 1024) + 1);
  });
});

describe('readRecords: damage', () => {
  it('skips a bad line and a non-record, naming file and line, and keeps the good records', async () => {
    const file = path.join(FIXTURES, 'damaged.jsonl');
    const { items, errors } = await readAll([file]);
    expect(items.map((i) => [i.record.eventName, i.line])).toEqual([
      ['GetCallerIdentity', 1],
      ['CreateUser', 4],
      ['UpdateAccountSendingEnabled', 6],
    ]);
    expect(errors.map((e) => [e.file, e.line, e.fatal])).toEqual([
      [file, 2, false],
      [file, 3, false],
    ]);
    expect(errors[0].message).toMatch(/^.*damaged\.jsonl:2: invalid JSON/);
    expect(errors[1].message).toMatch(/damaged\.jsonl:3: not a CloudTrail record/);
  });

  it('reads the complete records of a truncated gzip file, then reports the cut', async () => {
    const records = trickyRecords(400);
    const compressed = gzipSync(Buffer.from(JSON.stringify({ Records: records })));
    const file = write('cut.json.gz', compressed.subarray(0, Math.floor(compressed.length * 0.6)));
    const { ids, errors } = await readAll([file]);
    expect(ids.length).toBeGreaterThan(50);
    expect(ids.length).toBeLessThan(400);
    expect(ids).toEqual(records.slice(0, ids.length).map((r) => r.eventID));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file, fatal: true });
    expect(errors[0].reason).toMatch(/truncated/);
  });

  it('reports a bad element of a Records array by line and position and reads on', async () => {
    const [a, b] = leakedKeyScenario();
    const file = write(
      'bad.json',
      `{"Records":[\n${JSON.stringify(a)},\n{"eventName": nope},\n42,\n${JSON.stringify(b)}\n]}`,
    );
    const { ids, errors } = await readAll([file]);
    expect(ids).toEqual([a.eventID, b.eventID]);
    expect(errors.map((e) => [e.line, e.fatal])).toEqual([
      [3, false],
      [4, false],
    ]);
    expect(errors[0].reason).toMatch(/record #2: invalid JSON/);
  });

  it('reports empty, missing and non-JSON files as unreadable', async () => {
    const { items, errors } = await readAll([
      write('empty.json', ''),
      path.join(dir, 'missing.json'),
      write('t.json', 'hello'),
    ]);
    expect(items).toEqual([]);
    expect(errors.map((e) => [path.basename(e.file), e.fatal, e.reason])).toEqual([
      ['missing.json', true, 'no such file or folder'],
      ['empty.json', true, 'empty file'],
      ['t.json', true, 'not JSON: unexpected "h"'],
    ]);
  });
});

describe('readRecords: folders and progress', () => {
  it('walks folders recursively in name order, skipping hidden files and other extensions', async () => {
    const [a, b, c] = leakedKeyScenario();
    write('logs/2025/02/12/b.json.gz', gzipSync(JSON.stringify({ Records: [b] })));
    write('logs/2025/02/11/a.json', JSON.stringify({ Records: [a] }));
    write('logs/2025/02/12/c.jsonl', JSON.stringify(c));
    write('logs/.hidden.json', JSON.stringify({ Records: [c] }));
    write('logs/readme.txt', 'not a log');
    const { ids, errors } = await readAll([path.join(dir, 'logs')]);
    expect(errors).toEqual([]);
    expect(ids).toEqual([a.eventID, b.eventID, c.eventID]);
  });

  it('counts bytes, records, errors and files as it goes, in batches', async () => {
    const progress = newProgress();
    const file = path.join(FIXTURES, 'damaged.jsonl');
    let batches = 0;
    for await (const batch of readRecordBatches([file, path.join(FIXTURES, 'trail-file.json')], {
      progress,
    })) {
      batches++;
      expect(batch.length).toBeGreaterThan(0);
    }
    expect(batches).toBe(2);
    expect(progress).toEqual({
      bytesRead: progress.totalBytes,
      totalBytes: readFileSync(file).length + readFileSync(path.join(FIXTURES, 'trail-file.json')).length,
      records: 8,
      errors: 2,
      filesRead: 2,
    });
  });
});
