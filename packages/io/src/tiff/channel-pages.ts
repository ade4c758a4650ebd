import type { TiffPage } from './page.js';

/**
 * Where a file keeps the colours of its image:
 * - `samples`: in each page's own samples (the usual TIFF; grey pages stay grey);
 * - `pages`: one single-sample page per channel, R, G, B in page order (some HuBMAP Kaggle
 *   slides, which tifffile shows as shape (3, H, W) or (1, 1, 3, H, W));
 * - `auto`: `pages` when the file's layout says so without doubt (see `channelPageRefusal`),
 *   else `samples`.
 */
export type ChannelLayout = 'samples' | 'pages' | 'auto';

/** A top-level page and its sub-IFDs (the reduced copies of pyramid files that use them). */
export interface PageChain {
  top: TiffPage;
  subIfds: readonly TiffPage[];
  /** The page declares itself one page of a multi-page document (PageNumber tag, or NewSubfileType bit 1). */
  documentPage: boolean;
}

// Colour planes come in threes: red, green, blue.
const channels = 3;

function sameGeometry(a: TiffPage, b: TiffPage): boolean {
  return (
    a.width === b.width &&
    a.height === b.height &&
    a.tiled === b.tiled &&
    a.blockWidth === b.blockWidth &&
    a.blockHeight === b.blockHeight
  );
}

function sameSamples(a: TiffPage, b: TiffPage): boolean {
  return a.bitsPerSample[0] === b.bitsPerSample[0] && a.sampleFormat === b.sampleFormat;
}

/** One image made of three single-sample pages read as R, G and B. */
export function mergePlanes(planes: readonly TiffPage[]): TiffPage {
  const [first] = planes;
  return {
    ...first,
    id: planes.map((p) => p.id).join('+'),
    samplesPerPixel: planes.length,
    bitsPerSample: planes.map((p) => p.bitsPerSample[0]),
    photometric: 2,
    planarConfiguration: 2,
    planes,
  };
}

/**
 * The plane triples of a file read as `pages`, largest image first: consecutive top-level
 * pages in threes, plus, for each sub-IFD index, the three pages' sub-IFDs at that index.
 * Returns why not when the file is not laid out that way.
 */
export function groupPlanes(chains: readonly PageChain[]): TiffPage[][] | string {
  if (chains.length === 0 || chains.length % channels !== 0) {
    return `${chains.length} top-level pages is not a multiple of ${channels}`;
  }
  const groups: TiffPage[][] = [];
  for (let k = 0; k < chains.length; k += channels) {
    const triple = chains.slice(k, k + channels);
    const depth = triple[0].subIfds.length;
    if (triple.some((c) => c.subIfds.length !== depth)) {
      return `pages ${triple.map((c) => c.top.id).join(', ')} have different numbers of sub-IFDs`;
    }
    groups.push(triple.map((c) => c.top));
    for (let j = 0; j < depth; j++) groups.push(triple.map((c) => c.subIfds[j]));
  }
  for (const planes of groups) {
    const ids = planes.map((p) => p.id).join(', ');
    if (planes.some((p) => p.samplesPerPixel !== 1)) return `pages ${ids} are not all single-sample`;
    if (planes.some((p) => !sameGeometry(p, planes[0]))) return `pages ${ids} differ in size or tiling`;
    if (planes.some((p) => !sameSamples(p, planes[0]))) return `pages ${ids} differ in sample type`;
  }
  // Equal sizes would make several images (a z or time series of colour images), not one pyramid.
  const sizes = groups.map((g) => g[0].width * g[0].height);
  if (new Set(sizes).size !== sizes.length) return 'several plane triples have the same size';
  return groups.sort((a, b) => b[0].width * b[0].height - a[0].width * a[0].height);
}

const attribute = (xml: string, name: string): string | undefined =>
  new RegExp(`\\b${name}="([^"]*)"`).exec(xml)?.[1];

/**
 * What the first page's ImageDescription says of the planes: undefined when it agrees with
 * (or says nothing about) three colour planes of one image, else why it disagrees. Read are
 * OME-XML (one Pixels element with SizeC 3, SizeZ 1, SizeT 1), ImageJ (channels=3, one
 * slice, one frame) and tifffile's JSON (`shape` [3, H, W] after leading ones).
 */
export function descriptionRefusal(description: string | undefined): string | undefined {
  if (!description) return undefined;
  // ASCII tags end in NUL, which some readers keep.
  const text = description.replace(/\0+$/, '').trim();
  if (text.includes('<OME')) {
    const pixels = text.match(/<Pixels\b[^>]*>/g) ?? [];
    if (pixels.length !== 1) return `its OME-XML describes ${pixels.length} images`;
    const [c, z, t] = ['SizeC', 'SizeZ', 'SizeT'].map((n) => Number(attribute(pixels[0], n) ?? 1));
    if (c !== 3 || z !== 1 || t !== 1) return `its OME-XML says SizeC=${c} SizeZ=${z} SizeT=${t}`;
    return undefined;
  }
  if (text.startsWith('ImageJ=')) {
    const value = (key: string) => Number(new RegExp(`^${key}=(\\d+)`, 'm').exec(text)?.[1] ?? 1);
    const [c, z, t] = ['channels', 'slices', 'frames'].map(value);
    if (c !== 3 || z !== 1 || t !== 1)
      return `its ImageJ description says channels=${c} slices=${z} frames=${t}`;
    return undefined;
  }
  if (text.startsWith('{')) {
    let shape: unknown;
    try {
      shape = (JSON.parse(text) as { shape?: unknown }).shape;
    } catch {
      return undefined;
    }
    if (!Array.isArray(shape)) return undefined;
    const dims = [...shape];
    while (dims.length > 3 && dims[0] === 1) dims.shift();
    if (dims.length !== 3 || dims[0] !== 3)
      return `its tifffile description says shape [${shape.join(', ')}]`;
  }
  return undefined;
}

/**
 * Why `auto` does not read the file as colour planes, or undefined when it does. Three grey
 * pages are a colour image only when nothing suggests otherwise:
 * - the pages form plane triples (`groupPlanes`): every top-level page belongs to one,
 *   single-sample, same size, tiling and sample type within a triple, one triple per size;
 * - the planes are 8-bit unsigned BlackIsZero (what the Kaggle files hold);
 * - no page declares itself a page of a document (PageNumber, NewSubfileType bit 1), as
 *   multi-page scans and fax files do;
 * - the ImageDescription, if OME-XML, ImageJ or tifffile JSON, agrees (`descriptionRefusal`).
 * Three untagged grey pages of one size remain ambiguous (they may be a z-series); `auto`
 * reads them as colour, `channels: 'samples'` reads them as grey pages.
 */
export function channelPageRefusal(
  chains: readonly PageChain[],
  description: string | undefined,
): string | undefined {
  const groups = groupPlanes(chains);
  if (typeof groups === 'string') return groups;
  const planes = groups.flat();
  if (planes.some((p) => p.bitsPerSample[0] !== 8 || p.sampleFormat !== 'uint' || p.photometric !== 1)) {
    return 'the planes are not 8-bit unsigned BlackIsZero';
  }
  const document = chains.find((c) => c.documentPage);
  if (document) return `page ${document.top.id} is tagged as a page of a multi-page document`;
  return descriptionRefusal(description);
}
