import type { Engine } from './engine/engine.js';

/** A GPU buffer shared by a tensor and its views; returned to the pool when the last holder lets go. */
export class Storage {
  private refs = 1;

  constructor(
    readonly engine: Engine,
    readonly buffer: GPUBuffer,
    /** Bytes the tensor asked for (the pooled buffer may be larger). */
    readonly bytes: number,
  ) {}

  static allocate(engine: Engine, bytes: number): Storage {
    return new Storage(engine, engine.pool.acquire(Math.max(bytes, 4)), bytes);
  }

  retain(): this {
    if (this.refs <= 0) throw new Error('nephron: use of a tensor whose memory was already released');
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) this.engine.pool.release(this.buffer);
  }

  get alive(): boolean {
    return this.refs > 0;
  }
}
