// Loads the PyTorch golden fixtures in packages/tensor/fixtures/golden (see the README there) for tests.
// Node only: tests read the committed JSON from disk; nothing here ships in the package's public API.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const GOLDEN_GROUPS = [
  'conv2d',
  'batch_norm',
  'softmax',
  'pool_upsample',
  'matmul',
  'elementwise',
] as const;

export type GoldenGroup = (typeof GOLDEN_GROUPS)[number];

/** A tensor as the fixtures store it: flat row-major data. Float data are float64 references. */
export interface GoldenTensor {
  shape: number[];
  data: number[];
  dtype: 'float64' | 'int64';
}

/** Pass when |got - want| <= atol + rtol * |want| for every element. */
export interface Tolerance {
  rtol: number;
  atol: number;
}

export type GoldenParam = number | string | boolean | null | number[];

export interface GoldenCase {
  name: string;
  /** PyTorch's functional name: conv2d, batch_norm, cross_entropy, max_pool2d, interpolate, ... */
  op: string;
  /** PyTorch's keyword arguments, snake_case, except conv2d's `pad: [left, right, top, bottom]`. */
  params: Record<string, GoldenParam>;
  inputs: Record<string, GoldenTensor>;
  /** Always holds `output`; some ops add more (`indices`, `running_mean`, `running_var`). */
  outputs: Record<string, GoldenTensor>;
  /** d(sum(outputs.output * gradOutput)) / d(input), for every differentiable input. */
  grads: Record<string, GoldenTensor>;
  /** Present exactly when `grads` is not empty. */
  gradOutput?: GoldenTensor;
  tolerance: { outputs: Tolerance; grads: Tolerance };
}

export interface GoldenFile {
  torchVersion: string;
  group: string;
  cases: GoldenCase[];
}

export function goldenPath(group: GoldenGroup): string {
  return fileURLToPath(new URL(`../../fixtures/golden/${group}.json`, import.meta.url));
}

export function loadGolden(group: GoldenGroup): GoldenCase[] {
  return loadGoldenFile(group).cases;
}

export function loadGoldenFile(group: GoldenGroup): GoldenFile {
  const path = goldenPath(group);
  const file = parseGolden(readFileSync(path, 'utf8'), path);
  if (file.group !== group) {
    throw new Error(`${path}: holds group "${file.group}", expected "${group}"`);
  }
  return file;
}

/** Parses and checks one fixture file; `source` names it in error messages. */
export function parseGolden(text: string, source: string): GoldenFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON (${(error as Error).message})`);
  }
  const root = asObject(json, source);
  const cases = root['cases'];
  if (!Array.isArray(cases) || cases.length === 0) {
    throw new Error(`${source}: "cases" must be a non-empty array`);
  }
  const names = new Set<string>();
  const parsed = cases.map((raw, i) => {
    const golden = parseCase(raw, `${source}: case ${i}`);
    if (names.has(golden.name)) throw new Error(`${source}: case name "${golden.name}" appears twice`);
    names.add(golden.name);
    return golden;
  });
  return {
    torchVersion: asString(root['torch_version'], `${source}: torch_version`),
    group: asString(root['group'], `${source}: group`),
    cases: parsed,
  };
}

function parseCase(raw: unknown, where: string): GoldenCase {
  const obj = asObject(raw, where);
  const name = asString(obj['name'], `${where}: name`);
  const at = `${where} "${name}"`;
  const inputs = parseTensors(obj['inputs'], `${at}: inputs`);
  const outputs = parseTensors(obj['outputs'], `${at}: outputs`);
  const grads = parseTensors(obj['grads'], `${at}: grads`);
  if (!('output' in outputs)) throw new Error(`${at}: outputs has no "output"`);
  if (Object.keys(inputs).length === 0) throw new Error(`${at}: inputs is empty`);
  for (const [key, grad] of Object.entries(grads)) {
    const input = inputs[key];
    if (input === undefined) throw new Error(`${at}: grads.${key} has no matching input`);
    if (input.dtype !== 'float64' || grad.dtype !== 'float64') {
      throw new Error(`${at}: grads.${key} belongs to an integer tensor`);
    }
    if (!sameShape(input.shape, grad.shape)) {
      throw new Error(`${at}: grads.${key} has shape [${grad.shape}], input has [${input.shape}]`);
    }
  }
  const golden: GoldenCase = {
    name,
    op: asString(obj['op'], `${at}: op`),
    params: parseParams(obj['params'], `${at}: params`),
    inputs,
    outputs,
    grads,
    tolerance: parseTolerances(obj['tolerance'], `${at}: tolerance`),
  };
  const hasGrads = Object.keys(grads).length > 0;
  if (hasGrads !== (obj['grad_output'] !== undefined)) {
    throw new Error(`${at}: grad_output must be present exactly when grads is not empty`);
  }
  if (hasGrads) {
    const gradOutput = parseTensor(obj['grad_output'], `${at}: grad_output`);
    if (!sameShape(gradOutput.shape, outputs['output'].shape)) {
      throw new Error(
        `${at}: grad_output has shape [${gradOutput.shape}], output has [${outputs['output'].shape}]`,
      );
    }
    golden.gradOutput = gradOutput;
  }
  return golden;
}

function parseTensors(raw: unknown, where: string): Record<string, GoldenTensor> {
  const obj = asObject(raw, where);
  const tensors: Record<string, GoldenTensor> = {};
  for (const [key, value] of Object.entries(obj)) tensors[key] = parseTensor(value, `${where}.${key}`);
  return tensors;
}

function parseTensor(raw: unknown, where: string): GoldenTensor {
  const obj = asObject(raw, where);
  const shape = obj['shape'];
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${where}: shape must be an array of non-negative integers`);
  }
  const dtype = obj['dtype'] ?? 'float64';
  if (dtype !== 'float64' && dtype !== 'int64') {
    throw new Error(`${where}: dtype must be "int64" or absent, got ${JSON.stringify(dtype)}`);
  }
  const data = obj['data'];
  if (!Array.isArray(data)) throw new Error(`${where}: data must be an array`);
  const expected = shape.reduce((n: number, d: number) => n * d, 1);
  if (data.length !== expected) {
    throw new Error(`${where}: shape [${shape}] holds ${expected} values but data has ${data.length}`);
  }
  const valid = dtype === 'int64' ? Number.isSafeInteger : Number.isFinite;
  const bad = data.findIndex((v) => typeof v !== 'number' || !valid(v));
  if (bad >= 0) {
    const kind = dtype === 'int64' ? 'an integer' : 'a finite number';
    throw new Error(`${where}: data[${bad}] is not ${kind}: ${JSON.stringify(data[bad])}`);
  }
  return { shape: shape as number[], data: data as number[], dtype };
}

function parseParams(raw: unknown, where: string): Record<string, GoldenParam> {
  const obj = asObject(raw, where);
  for (const [key, value] of Object.entries(obj)) {
    const scalar = value === null || ['number', 'string', 'boolean'].includes(typeof value);
    const numbers = Array.isArray(value) && value.every((v) => typeof v === 'number');
    if (!scalar && !numbers) throw new Error(`${where}.${key}: must be a scalar or an array of numbers`);
  }
  return obj as Record<string, GoldenParam>;
}

function parseTolerances(raw: unknown, where: string): GoldenCase['tolerance'] {
  const obj = asObject(raw, where);
  return {
    outputs: parseTolerance(obj['outputs'], `${where}.outputs`),
    grads: parseTolerance(obj['grads'], `${where}.grads`),
  };
}

function parseTolerance(raw: unknown, where: string): Tolerance {
  const obj = asObject(raw, where);
  const { rtol, atol } = obj;
  if (typeof rtol !== 'number' || typeof atol !== 'number' || !(rtol >= 0) || !(atol >= 0)) {
    throw new Error(`${where}: rtol and atol must be non-negative numbers`);
  }
  return { rtol, atol };
}

function asObject(raw: unknown, where: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${where}: must be a JSON object`);
  }
  return raw as Record<string, unknown>;
}

function asString(raw: unknown, where: string): string {
  if (typeof raw !== 'string' || raw === '') throw new Error(`${where}: must be a non-empty string`);
  return raw;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Compares computed values with a golden tensor. Returns null when every element is within tolerance
 * (integer tensors must match exactly), else a message naming the worst element, for a test to report.
 */
export function goldenMismatch(
  got: ArrayLike<number>,
  want: GoldenTensor,
  tolerance: Tolerance,
  label = 'tensor',
): string | null {
  if (got.length !== want.data.length) {
    return `${label}: got ${got.length} values, golden shape [${want.shape}] has ${want.data.length}`;
  }
  let worst = -1;
  let worstRatio = 1;
  for (let i = 0; i < got.length; i++) {
    const g = got[i];
    const w = want.data[i];
    const bound = want.dtype === 'int64' ? 0 : tolerance.atol + tolerance.rtol * Math.abs(w);
    const error = Math.abs(g - w);
    // NaN fails every comparison, so test "not within" rather than "beyond".
    if (!(error <= bound)) {
      const ratio = Number.isNaN(error) ? Number.POSITIVE_INFINITY : error / bound;
      if (worst < 0 || ratio > worstRatio) {
        worst = i;
        worstRatio = ratio;
      }
    }
  }
  if (worst < 0) return null;
  return (
    `${label}[${unravel(worst, want.shape)}]: got ${got[worst]}, want ${want.data[worst]} ` +
    `(rtol ${tolerance.rtol}, atol ${tolerance.atol})`
  );
}

function unravel(flat: number, shape: readonly number[]): string {
  const index: number[] = [];
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    index.unshift(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  return index.join(', ');
}
