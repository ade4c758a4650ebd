import type { Tensor } from '../tensor.js';

/** Where a gradient flows next: into another node, or into a leaf's `.grad`. */
export type Edge = { node: Node } | { leaf: Tensor } | null;

/**
 * Computes the gradients of an op's inputs from the gradient of its output. `saved` holds the tensors the op
 * kept for backward (their own handles, so the caller may dispose the originals); `needs[i]` says whether
 * input i wants a gradient, so rules can skip work.
 */
export type BackwardFn = (
  grad: Tensor,
  saved: readonly Tensor[],
  needs: readonly boolean[],
) => (Tensor | null)[];

/** One recorded operation in the autograd graph. */
export class Node {
  private refs = 1;
  freed = false;

  constructor(
    readonly name: string,
    readonly next: Edge[],
    private savedTensors: Tensor[],
    readonly backward: BackwardFn,
  ) {
    for (const edge of next) if (edge && 'node' in edge) edge.node.refs++;
  }

  get saved(): readonly Tensor[] {
    if (this.freed) {
      throw new Error(
        `nephron: backward through ${this.name} a second time; its saved tensors were already freed after the first backward()`,
      );
    }
    return this.savedTensors;
  }

  /** Frees what backward would have needed; the graph shape stays for bookkeeping. */
  freeSaved(): void {
    if (this.freed) return;
    this.freed = true;
    for (const t of this.savedTensors) t.dispose();
    this.savedTensors = [];
  }

  retain(): void {
    this.refs++;
  }

  /** Drops one holder; the last one frees the saved tensors and lets go of the inputs' nodes. */
  release(): void {
    if (--this.refs > 0) return;
    this.freeSaved();
    for (const edge of this.next) if (edge && 'node' in edge) edge.node.release();
  }
}
