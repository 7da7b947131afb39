import fs from 'node:fs';
import readline from 'node:readline';
import { CaptureFormatError, parseHeaderLine, parseRecordLine, type CaptureHeader, type ReadRecord } from './capture-format.js';

/**
 * Read a capture file line by line. Rejects with CaptureFormatError naming the file and the
 * line for a corrupt or truncated line, and refuses another format version.
 */
export async function loadCapture(path: string): Promise<{ header: CaptureHeader; records: ReadRecord[] }> {
  const lines = readline.createInterface({ input: fs.createReadStream(path), crlfDelay: Infinity });
  let header: CaptureHeader | null = null;
  const records: ReadRecord[] = [];
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (n === 1) header = parseHeaderLine(line, path);
      else if (line.trim() !== '') records.push(parseRecordLine(line, n, path));
    }
  } finally {
    lines.close();
  }
  if (header === null) throw new CaptureFormatError(1, 'empty file; a capture starts with its header line', path);
  return { header, records };
}
