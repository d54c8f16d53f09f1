/**
 * The lines of a streamed body (NDJSON), handed out as soon as their newline arrives, however the
 * pieces split them. Each piece is searched once, so a long line split over many pieces costs no
 * more than its length; a multi-byte character split between pieces is decoded whole.
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder();
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  feed(piece: Uint8Array): void {
    const text = this.decoder.decode(piece, { stream: true });
    let newline = text.indexOf('\n');
    if (newline < 0) {
      this.partial += text;
      return;
    }
    const first = this.partial + text.slice(0, newline);
    this.partial = '';
    this.onLine(first);
    let from = newline + 1;
    while ((newline = text.indexOf('\n', from)) >= 0) {
      this.onLine(text.slice(from, newline));
      from = newline + 1;
    }
    this.partial = text.slice(from);
  }

  /** The body ended: its last line, when it has no newline. */
  end(): void {
    const rest = this.partial + this.decoder.decode();
    this.partial = '';
    if (rest !== '') this.onLine(rest);
  }
}
