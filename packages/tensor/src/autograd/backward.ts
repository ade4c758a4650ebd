import type { Tensor } from '../tensor.js';
import { noGrad } from './grad-mode.js';
import type { Node } from './node.js';

/** Nodes reachable from `root`, each after every node that feeds gradient into it. */
function topologicalOrder(root: Node): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  const stack: [Node, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.next.length) {
      top[1]++;
      const edge = node.next[i];
      if (edge && 'node' in edge && !seen.has(edge.node)) {
        seen.add(edge.node);
        stack.push([edge.node, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}

/**
 * Reverse-mode differentiation from `root` with upstream gradient `grad` (owned by this function). Leaf gradients
 * accumulate into `.grad`, which is owned by the leaf and survives `tidy` scopes.
 */
export function runBackward(rootTensor: Tensor, grad: Tensor, options: { retainGraph?: boolean } = {}): void {
  const root = rootTensor.gradFn;
  if (!root) {
    grad.dispose();
    return;
  }
  noGrad(() => {
    const order = topologicalOrder(root);
    const pending = new Map<Node, Tensor>([[root, grad]]);
    for (const node of order) {
      const g = pending.get(node);
      if (!g) continue;
      pending.delete(node);
      const needs = node.next.map((e) => e !== null);
      const grads = node.backward(g, node.saved, needs);
      g.dispose();
      node.next.forEach((edge, i) => {
        const gi = grads[i];
        if (!edge || !gi) {
          gi?.dispose();
          return;
        }
        if ('leaf' in edge) {
          edge.leaf.accumulateGrad(gi);
        } else {
          const prev = pending.get(edge.node);
          if (prev) {
            // A broadcast view (e.g. a sum's gradient) aliases one element many times: add into a copy.
            const into = prev.isContiguous() ? prev : prev.contiguous();
            if (into !== prev) prev.dispose();
            pending.set(edge.node, into.addInPlace(gi));
            gi.dispose();
          } else {
            pending.set(edge.node, gi);
          }
        }
      });
      // Later nodes run only after every contributor has been visited, so this one's buffers can go now.
      if (!options.retainGraph) node.freeSaved();
    }
    for (const g of pending.values()) g.dispose();
  });
}
