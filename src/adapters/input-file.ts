/** A command's input: a file path, or `-` for stdin; bounded before it is read, strict UTF-8. */
import { InputError, quote } from '../errors';
import type { Io } from '../io';
import { decodeUtf8, readRegularFile } from './file-read';
import { errnoCode } from './os-error';

export async function readInput(path: string, io: Io, maxBytes: number): Promise<{ text: string; source: string }> {
  const source = path === '-' ? 'stdin' : path;
  let bytes: Buffer;
  try {
    bytes = path === '-' ? await io.readStdin(maxBytes) : readRegularFile(path, { maxBytes });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EFBIG') throw new InputError(source, `larger than ${maxBytes} bytes`);
    if (code === undefined) throw err;
    throw new InputError(path === '-' ? 'stdin' : quote(path), `cannot read: ${code}`);
  }
  return { text: decodeUtf8(bytes, source), source };
}
