import type { Tensor } from './tensor.js';

/**
 * Deterministic memory: tensors created inside `tidy(fn)` are disposed when it returns, except those it returns
 * and those passed to `keep`. GPU memory never waits for the garbage collector.
 */
const scopes: Set<Tensor>[] = [];

export function trackTensor(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}

export function untrackTensor(t: Tensor): void {
  for (const scope of scopes) scope.delete(t);
}

/** Keeps a tensor alive past the enclosing `tidy` scopes; the caller now owns it and must `dispose()` it. */
export function keep<T extends Tensor>(t: T): T {
  untrackTensor(t);
  return t;
}

type Tidied =
  | Tensor
  | readonly Tidied[]
  | { readonly [key: string]: Tidied }
  | number
  | string
  | boolean
  | void
  | null
  | undefined;

function collect(value: unknown, into: Set<Tensor>, isTensor: (v: unknown) => v is Tensor): void {
  if (isTensor(value)) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collect(v, into, isTensor);
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, into, isTensor);
  }
}

let isTensorFn: (v: unknown) => v is Tensor = (_v): _v is Tensor => false;
export function registerTensorClass(check: (v: unknown) => v is Tensor): void {
  isTensorFn = check;
}

export function tidy<T extends Tidied>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise)
    throw new Error('nephron: tidy() takes a synchronous function; await outside it');
  const survivors = new Set<Tensor>();
  collect(result, survivors, isTensorFn);
  for (const t of scope) if (!survivors.has(t)) t.dispose();
  for (const t of survivors) if (scope.has(t)) trackTensor(t);
  return result;
}

/** Disposes every tensor in a structure. */
export function dispose(value: unknown): void {
  const all = new Set<Tensor>();
  collect(value, all, isTensorFn);
  for (const t of all) t.dispose();
}
