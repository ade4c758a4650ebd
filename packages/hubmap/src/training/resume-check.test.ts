import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_CONFIG } from './config.js';
import { resumeConflicts } from './resume-check.js';

describe('resumeConflicts', () => {
  const saved = JSON.parse(JSON.stringify(DEFAULT_TRAIN_CONFIG)) as Record<string, unknown>;

  it('accepts the same options, more epochs, another checkpoint interval, and reordered keys', () => {
    expect(resumeConflicts(saved, DEFAULT_TRAIN_CONFIG)).toEqual([]);
    expect(resumeConflicts(saved, { ...DEFAULT_TRAIN_CONFIG, epochs: 99, checkpointEvery: 7 })).toEqual([]);
    const reordered = Object.fromEntries(Object.entries(DEFAULT_TRAIN_CONFIG.augment).reverse());
    expect(resumeConflicts(saved, { ...DEFAULT_TRAIN_CONFIG, augment: reordered as never })).toEqual([]);
  });

  it('names every other option that changed, nested ones included', () => {
    const asked = {
      ...DEFAULT_TRAIN_CONFIG,
      tile: 256,
      validation: ['b'],
      augment: { ...DEFAULT_TRAIN_CONFIG.augment, flip: !DEFAULT_TRAIN_CONFIG.augment.flip },
    };
    const conflicts = resumeConflicts(saved, asked);
    expect(conflicts.map((c) => c.split(':')[0])).toEqual(['tile', 'validation', 'augment']);
    expect(conflicts[0]).toBe('tile: 512 → 256');
    expect(conflicts[1]).toBe('validation: [] → ["b"]');
  });

  it('lets options the checkpoint predates take their values, and refuses a checkpoint without options', () => {
    const { bnMomentum: _, ...older } = saved;
    expect(resumeConflicts(older, { ...DEFAULT_TRAIN_CONFIG, bnMomentum: 0.2 })).toEqual([]);
    expect(resumeConflicts(null, DEFAULT_TRAIN_CONFIG)).toEqual([
      'config: the checkpoint holds no training options',
    ]);
  });
});
