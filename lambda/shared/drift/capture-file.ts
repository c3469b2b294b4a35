import * as fs from 'node:fs';

/**
 * The read size for local capture files. A file stream keeps one read in flight: with Node's
 * default of 64 KiB, the scan of a chunk outruns its read, and most of a run is spent waiting for
 * the next one (on a 1M-line file, half the wall-clock time). Reads of 1 MiB leave the thread
 * waiting a sixteenth as often; memory stays bounded by the chunk size, not by the file.
 */
export const CAPTURE_FILE_READ_BYTES = 1 << 20;

/** A local capture file (plain or gzipped JSON Lines) as a stream for `histogramOfCapture`. */
export function openCaptureFile(file: string): fs.ReadStream {
  return fs.createReadStream(file, { highWaterMark: CAPTURE_FILE_READ_BYTES });
}
