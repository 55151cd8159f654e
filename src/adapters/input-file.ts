/** Reading a command's input: a file path, or `-` for stdin, bounded in size before parsing. */
import { readFileSync, statSync } from 'node:fs';
import { InputError, quote } from '../errors';
import type { Io } from '../io';

export async function readInput(path: string, io: Io, maxBytes: number): Promise<{ text: string; source: string }> {
  if (path === '-') {
    const text = await io.readStdin();
    if (Buffer.byteLength(text) > maxBytes) throw new InputError('stdin', `larger than ${maxBytes} bytes`);
    return { text, source: 'stdin' };
  }
  try {
    const size = statSync(path).size;
    if (size > maxBytes) throw new InputError(path, `larger than ${maxBytes} bytes`);
    return { text: readFileSync(path, 'utf8'), source: path };
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(quote(path), `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
