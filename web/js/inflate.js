// zlib-stream decoding in the browser: ONE DecompressionStream("deflate") for the connection (the
// server keeps one deflate context and ends each message with a sync flush, 00 00 ff ff, so every
// message's bytes can be fully inflated once written). The inflated text is a run of JSON
// objects back to back; a small scanner cuts it at each top-level object's end.
export class ZlibStream {
  constructor(onPayload, onError) {
    this.onPayload = onPayload;
    const stream = new DecompressionStream("deflate");
    this.writer = stream.writable.getWriter();
    this.decoder = new TextDecoder();
    this.text = "";
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.scanned = 0;
    this.pump(stream.readable.getReader()).catch(onError);
  }

  push(bytes) {
    this.writer.write(new Uint8Array(bytes)).catch(() => {});
  }

  close() {
    this.writer.close().catch(() => {});
  }

  async pump(reader) {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      this.text += this.decoder.decode(value, { stream: true });
      this.scan();
    }
  }

  scan() {
    let start = 0;
    for (let i = this.scanned; i < this.text.length; i++) {
      const c = this.text[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === "\\") this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') this.inString = true;
      else if (c === "{" || c === "[") this.depth++;
      else if ((c === "}" || c === "]") && --this.depth === 0) {
        this.onPayload(JSON.parse(this.text.slice(start, i + 1)));
        start = i + 1;
      }
    }
    this.text = this.text.slice(start);
    this.scanned = this.text.length;
  }
}
