/** Optional features nephron turns on whenever the adapter offers them. */
export const WANTED_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'] as const;

/** Limits nephron raises to the adapter's maximum instead of WebGPU's small defaults. */
export const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxBindGroups',
  'maxBindingsPerBindGroup',
] as const;

export function pickFeatures(adapter: GPUAdapter): GPUFeatureName[] {
  return WANTED_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
}

export function pickLimits(adapter: GPUAdapter): Record<string, number> {
  const limits: Record<string, number> = {};
  const available = adapter.limits as unknown as Record<string, number>;
  for (const name of WANTED_LIMITS) {
    const value = available[name];
    if (typeof value === 'number') limits[name] = value;
  }
  return limits;
}
