import { Pool } from 'geotiff';

/**
 * A pool of decoder workers for JPEG, deflate, Zstandard and LERC tiles. In the browser
 * these are Web Workers; in Node, geotiff starts them through `web-worker`, which runs
 * them on worker_threads. Destroy the pool when done, or the process stays alive.
 */
export function createDecoderPool(size = 2): Pool {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`decoder pool size ${size} must be a positive integer`);
  return new Pool(size);
}
