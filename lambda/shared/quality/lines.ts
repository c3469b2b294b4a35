/**
 * JSON Lines objects, plain or gzipped, read line by line. Memory holds the current chunk and the
 * line being assembled, so it is bounded by the longest line, not by the object.
 */
import { Readable, pipeline } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import * as zlib from 'node:zlib';

const GZIP_MAGIC = [0x1f, 0x8b];

function asBuffer(chunk: Buffer | Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk);
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
}

/** The object's bytes, gunzipped when they start with the gzip magic bytes (whatever the key's suffix). */
async function* bytesOf(source: Readable): AsyncGenerator<Buffer> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | Uint8Array | string>;
  const head: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < GZIP_MAGIC.length) {
    const next = await chunks.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = asBuffer(next.value);
    head.push(chunk);
    length += chunk.length;
  }
  async function* raw(): AsyncGenerator<Buffer> {
    yield* head;
    if (done) return;
    for (;;) {
      const next = await chunks.next();
      if (next.done) return;
      yield asBuffer(next.value);
    }
  }
  const first = Buffer.concat(head);
  if (first[0] !== GZIP_MAGIC[0] || first[1] !== GZIP_MAGIC[1]) {
    yield* raw();
    return;
  }
  // pipeline() destroys every stage on a failure, so a corrupt gzip rejects the iteration below.
  const gunzipped = pipeline(Readable.from(raw()), zlib.createGunzip(), () => undefined);
  for await (const chunk of gunzipped) yield asBuffer(chunk as Buffer);
}

/**
 * Hands every non-blank line of a JSON Lines object (`\n` or `\r\n` separated) to `sink`. Rejects
 * when the stream fails, e.g. a corrupt or truncated gzip (see `isUnreadableObject`).
 */
export async function readLines(source: Readable, sink: (line: string) => void): Promise<void> {
  const decoder = new StringDecoder('utf8');
  // The pieces of a line that spans chunks, joined once its end arrives: linear in the line's length.
  let pieces: string[] = [];
  const emit = (line: string) => {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.trim() !== '') sink(text);
  };
  for await (const chunk of bytesOf(source)) {
    const text = decoder.write(chunk);
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      pieces.push(text.slice(start, end));
      emit(pieces.join(''));
      pieces = [];
      start = end + 1;
    }
    if (start < text.length) pieces.push(text.slice(start));
  }
  pieces.push(decoder.end());
  emit(pieces.join(''));
}

/**
 * True for the errors of an object whose bytes cannot be read (zlib: corrupt or truncated gzip),
 * which reading it again would not fix; false for the rest (network, S3), which a retry may fix.
 */
export function isUnreadableObject(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}
