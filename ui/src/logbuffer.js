// What a log pane keeps of a task's output for download: the bytes read so far (the offset to
// resume from after a pause) and the newest text, capped so a chatty task cannot fill the tab.
export class LogBuffer {
  constructor(limit = 4 << 20) {
    this.limit = limit;
    this.bytes = 0;
    this.parts = [];
    this.size = 0;
  }
  push(text) {
    this.parts.push(text);
    this.size += text.length;
    // Whole old parts go first; the oldest one left is cut to fit.
    while (this.size - this.parts[0].length >= this.limit) this.size -= this.parts.shift().length;
    if (this.size > this.limit) {
      this.parts[0] = this.parts[0].slice(this.size - this.limit);
      this.size = this.limit;
    }
  }
  text() {
    return this.parts.join('');
  }
}
