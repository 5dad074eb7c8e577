/**
 * Bounded min-heap of (score, slot): keeps the k best seen so far in O(log k) per accepted item, and
 * exposes the current k-th score so the scan can reject most candidates with one comparison.
 */
export class TopK {
  readonly scores: Float64Array;
  readonly slots: Int32Array;
  size = 0;

  constructor(readonly capacity: number) {
    this.scores = new Float64Array(capacity);
    this.slots = new Int32Array(capacity);
  }

  /** Smallest kept score, or -Infinity while the heap is not yet full. */
  threshold(): number {
    return this.size < this.capacity ? -Infinity : this.scores[0];
  }

  offer(score: number, slot: number): void {
    if (this.size < this.capacity) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (this.scores[parent] <= score) break;
        this.scores[i] = this.scores[parent];
        this.slots[i] = this.slots[parent];
        i = parent;
      }
      this.scores[i] = score;
      this.slots[i] = slot;
      return;
    }
    if (score <= this.scores[0]) return;
    this.siftDown(score, slot);
  }

  private siftDown(score: number, slot: number): void {
    const { scores, slots, size } = this;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && scores[right] < scores[left] ? right : left;
      if (scores[child] >= score) break;
      scores[i] = scores[child];
      slots[i] = slots[child];
      i = child;
    }
    scores[i] = score;
    slots[i] = slot;
  }

  /** Entries best first. */
  sorted(): Array<{ score: number; slot: number }> {
    const out: Array<{ score: number; slot: number }> = [];
    for (let i = 0; i < this.size; i++) out.push({ score: this.scores[i], slot: this.slots[i] });
    return out.sort((a, b) => b.score - a.score);
  }
}
