/**
 * A malformed Kaggle run-length encoding. The message names the image and the offending token, so a bad
 * row of a 5 000-row CSV can be found at once; the fields carry the same facts for programs.
 */
export class RleError extends Error {
  override readonly name = 'RleError';
  /** The image id the encoding belongs to, when the caller named one. */
  readonly imageId: string | undefined;
  /** 1-based position of the offending token among the space-separated tokens. */
  readonly tokenIndex: number;
  /** 1-based character position where that token starts. */
  readonly charIndex: number;
  /** The token's text (cut to 40 characters). */
  readonly token: string;

  constructor(
    problem: string,
    imageId: string | undefined,
    tokenIndex: number,
    charIndex: number,
    token: string,
  ) {
    const who = imageId === undefined ? 'RLE' : `RLE of image "${imageId}"`;
    super(`${who}: token ${tokenIndex} at character ${charIndex} ("${token}"): ${problem}`);
    this.imageId = imageId;
    this.tokenIndex = tokenIndex;
    this.charIndex = charIndex;
    this.token = token;
  }
}
