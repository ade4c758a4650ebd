import { init } from '@nephron/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { EFFICIENTNET_NAMES, roundFilters, roundRepeats } from './efficientnet-config.js';
import { Unet } from './unet.js';

beforeAll(async () => {
  await init();
});

// State-dict entries, parameters and encoder parameters of Unet(name, classes=2), from the PyTorch rebuild in
// fixtures/generate_models.py (B4's numbers are smp's own; the encoders match smp's table: 4M … 63M).
const COUNTS: Record<string, [number, number, number]> = {
  'efficientnet-b0': [420, 6_251_614, 4_007_548],
  'efficientnet-b1': [568, 8_757_250, 6_513_184],
  'efficientnet-b2': [568, 10_046_436, 7_700_994],
  'efficientnet-b3': [634, 13_159_178, 10_696_232],
  'efficientnet-b4': [766, 20_225_834, 17_548_616],
  'efficientnet-b5': [914, 31_216_146, 28_340_784],
  'efficientnet-b6': [1046, 43_825_338, 40_735_704],
  'efficientnet-b7': [1260, 67_095_474, 63_786_960],
};

describe('EfficientNet family', () => {
  it('rounds widths and depths as lukemelas does', () => {
    expect([32, 16, 24, 40, 80, 112, 192, 320, 1280].map((f) => roundFilters(f, 1.4))).toEqual([
      48, 24, 32, 56, 112, 160, 272, 448, 1792,
    ]);
    expect([1, 2, 2, 3, 3, 4, 1].map((r) => roundRepeats(r, 1.8))).toEqual([2, 4, 4, 6, 6, 8, 2]);
    expect(roundFilters(32, 1.1)).toBe(32);
  });

  for (const name of EFFICIENTNET_NAMES) {
    it(`${name}: smp's counts, and the stage ends give the advertised channels`, () => {
      const model = new Unet(name, { classes: 2 });
      const [entries, parameters, encoder] = COUNTS[name];
      expect(model.stateDict().size).toBe(entries);
      expect(model.numParameters()).toBe(parameters);
      expect(model.encoder.numParameters()).toBe(encoder);
      const { stageIdxs, outChannels, blocks, convStem } = model.encoder;
      expect(convStem.outChannels).toBe(outChannels[1]);
      stageIdxs.forEach((end, i) => {
        expect(blocks.at(end - 1).args.outFilters).toBe(outChannels[i + 2]);
      });
      expect(stageIdxs[3]).toBe(blocks.length);
      model.dispose();
    });
  }

  it("B4 has 32 blocks with the issue's static padding and drop-connect schedule", () => {
    const model = new Unet('efficientnet-b4', { classes: 2 });
    const { blocks, convStem } = model.encoder;
    expect(blocks.length).toBe(32);
    expect(convStem.padding).toEqual([0, 1, 0, 1]);
    const strided = [...blocks].filter((b) => b.args.stride === 2).map((b) => b.depthwiseConv.padding);
    expect(strided).toEqual([
      [0, 1, 0, 1],
      [2, 2, 2, 2],
      [0, 1, 0, 1],
      [1, 2, 1, 2],
    ]);
    for (const b of blocks) {
      if (b.args.stride === 1) {
        const p = b.args.kernel === 3 ? 1 : 2;
        expect(b.depthwiseConv.padding).toEqual([p, p, p, p]);
      }
    }
    expect(model.encoder.dropConnectRate).toBe(0.2);
    model.dispose();
  });
});
