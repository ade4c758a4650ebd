import { type Tensor, tensor } from '@nephron/tensor';
import { bytesToFloat32, bytesToNumbers, numbersToBytes, type SafetensorsDType } from './dtypes.js';
import { parseSafetensors, type SafetensorsEntry, serializeSafetensors } from './format.js';

/**
 * Between safetensors entries and GPU tensors. Floats of every width load as float32 (nephron computes in
 * float32); integers load as int32 when they fit (PyTorch writes I64, e.g. `num_batches_tracked`). On the
 * way out, int32 tensors are written as I64 by default, PyTorch's integer type, so files round-trip with it.
 */

export interface SaveOptions {
  metadata?: Record<string, string>;
  /** How float tensors are stored (default F32). */
  floatDtype?: 'F32' | 'F16' | 'BF16';
  /** How int32 tensors are stored (default I64, as PyTorch's integers). */
  intDtype?: 'I64' | 'I32';
}

/** Uploads one entry as a tensor; `label` names it in errors. */
export function entryToTensor(entry: SafetensorsEntry, label = 'tensor'): Tensor {
  switch (entry.dtype) {
    case 'F32':
    case 'F16':
    case 'BF16':
    case 'F64':
      return tensor(bytesToFloat32(entry.data, entry.dtype), entry.shape);
    case 'BOOL':
      return tensor(
        Uint8Array.from(entry.data, (v) => (v ? 1 : 0)),
        entry.shape,
        { dtype: 'bool' },
      );
    case 'U32':
      return tensor(Uint32Array.from(bytesToNumbers(entry.data, entry.dtype, label)), entry.shape, {
        dtype: 'uint32',
      });
    case 'F8_E4M3':
    case 'F8_E5M2':
      throw new TypeError(`${label}: ${entry.dtype} tensors cannot be loaded`);
    default: {
      const values = bytesToNumbers(entry.data, entry.dtype, label);
      for (let i = 0; i < values.length; i++) {
        if (values[i] < -(2 ** 31) || values[i] >= 2 ** 31) {
          throw new RangeError(
            `${label}: ${entry.dtype} value ${values[i]} at element ${i} does not fit int32`,
          );
        }
      }
      return tensor(Int32Array.from(values), entry.shape, { dtype: 'int32' });
    }
  }
}

/** Reads one tensor back from the GPU as a safetensors entry. */
export async function tensorToEntry(
  t: Tensor,
  options: SaveOptions = {},
  label = 'tensor',
): Promise<SafetensorsEntry> {
  const values = await t.toArray();
  let dtype: SafetensorsDType;
  switch (t.dtype) {
    case 'float32':
    case 'float16':
      dtype = options.floatDtype ?? (t.dtype === 'float16' ? 'F16' : 'F32');
      break;
    case 'int32':
      dtype = options.intDtype ?? 'I64';
      break;
    case 'uint32':
      dtype = 'U32';
      break;
    case 'bool':
      dtype = 'BOOL';
      break;
  }
  const data =
    dtype === 'F32' && values instanceof Float32Array
      ? new Uint8Array(values.buffer, values.byteOffset, values.byteLength)
      : numbersToBytes(values, dtype, label);
  return { dtype, shape: [...t.shape], data };
}

/** Serialises named GPU tensors (e.g. a state dict) to safetensors bytes. */
export async function saveSafetensors(
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  options: SaveOptions = {},
): Promise<Uint8Array> {
  const entries = new Map<string, SafetensorsEntry>();
  for (const [name, t] of tensors instanceof Map ? tensors : Object.entries(tensors)) {
    entries.set(name, await tensorToEntry(t, options, `tensor "${name}"`));
  }
  return serializeSafetensors(entries, options.metadata);
}

/**
 * Parses safetensors bytes and uploads every tensor. The whole file is validated before anything is
 * allocated on the GPU; on a bad tensor, the ones already uploaded are freed.
 */
export function loadSafetensors(
  bytes: Uint8Array,
  source = 'safetensors data',
): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const file = parseSafetensors(bytes, source);
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, entry] of file.tensors) {
      tensors.set(name, entryToTensor(entry, `${source}: tensor "${name}"`));
    }
  } catch (error) {
    for (const t of tensors.values()) t.dispose();
    throw error;
  }
  return { tensors, metadata: file.metadata };
}
