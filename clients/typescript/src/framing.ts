/**
 * Splits a byte stream into lines on LF (0x0A) bytes only.
 *
 * Not `readline`: it also splits on U+2028/U+2029, which JSON allows raw inside strings, and then
 * loses messages. Lines are decoded only once complete, so a multi-byte character split across
 * chunks is intact, and a line of many megabytes costs one concatenation.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;

  /** Feeds a chunk; returns the complete lines it finished (without their LF or a trailing CR). */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      const whole = this.size === 0 ? piece : Buffer.concat([...this.parts, piece], this.size + piece.length);
      this.parts = [];
      this.size = 0;
      lines.push(decode(whole));
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.parts.push(rest);
      this.size += rest.length;
    }
    return lines;
  }

  /** What is left after the stream ended (a last line without LF), if anything. */
  flush(): string | undefined {
    if (this.size === 0) return undefined;
    const line = decode(Buffer.concat(this.parts, this.size));
    this.parts = [];
    this.size = 0;
    return line;
  }

  /** Bytes waiting for their LF. */
  get pending(): number {
    return this.size;
  }
}

function decode(b: Buffer): string {
  const end = b.length > 0 && b[b.length - 1] === 0x0d ? b.length - 1 : b.length;
  return b.toString("utf8", 0, end);
}
