import { RleError } from './rle-error.js';

/** The size of the image an encoding describes and, for error messages, its id. */
export interface RleShape {
  width: number;
  height: number;
  /** Image id quoted in error messages. */
  id?: string;
}

/** Text of an encoding: one string, or its pieces in order (tokens may straddle pieces). */
export type RleText = string | Iterable<string>;

const MAX_TOKEN_QUOTE = 40;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * Reads a Kaggle HuBMAP run-length encoding ("start length start length ...", starts 1-indexed, pixels
 * numbered down each column, then column by column) and calls `visit(start, length)` for each run with
 * `start` 0-based in that column-major numbering. Nothing is materialised, so an encoding of any size
 * streams through in constant memory.
 *
 * Throws {@link RleError} on an odd token count, a token that is not a decimal integer, a start below 1,
 * a length below 1, a run past the last pixel, or a run that overlaps or precedes the one before it.
 * Runs that touch end to start are allowed (they describe the same pixels as one longer run).
 */
export function forEachRleRun(
  text: RleText,
  shape: RleShape,
  visit: (start: number, length: number) => void,
): number {
  const { width, height, id } = shape;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`RLE${id === undefined ? '' : ` of image "${id}"`}: bad size ${width} x ${height}`);
  }
  const total = width * height;
  const pieces = typeof text === 'string' ? [text] : text;

  let tokenIndex = 0; // tokens completed so far
  let charBase = 0; // characters in the pieces before the current one
  let inToken = false;
  let tokenChar = 0; // 1-based start of the current token
  let value = 0;
  let bad = false; // the current token holds a character other than a digit
  let quote = ''; // the current token's text, kept only when it is bad
  let carried = ''; // the part of the current token that lay in earlier pieces
  let haveStart = false;
  let start = 0; // 1-based start of the pending pair
  let startToken = 0;
  let startChar = 0;
  let prevEnd = 1; // first pixel (1-based) a following run may start at
  let prevStart = 0;
  let runs = 0;

  const fail = (problem: string, index: number, char: number, token: string): never => {
    throw new RleError(problem, id, index, char, token);
  };

  const endToken = (): void => {
    tokenIndex++;
    if (bad) {
      const problem = /^[-+]?\d+$/.test(quote)
        ? quote.startsWith('-')
          ? `${haveStart ? 'length' : 'start'} must be a positive integer`
          : 'a sign is not allowed; expected a decimal integer'
        : 'not a number; expected a decimal integer';
      fail(problem, tokenIndex, tokenChar, quote);
    }
    if (!haveStart) {
      if (value < 1)
        fail('start must be at least 1 (starts are 1-indexed)', tokenIndex, tokenChar, String(value));
      if (value < prevEnd) {
        fail(
          value < prevStart
            ? `runs are not sorted: this start is before the previous run's start ${prevStart}`
            : `runs overlap: this start is inside the previous run, which ends at pixel ${prevEnd - 1}`,
          tokenIndex,
          tokenChar,
          String(value),
        );
      }
      if (value > total) {
        fail(
          `start is past the last pixel ${total} of a ${width} x ${height} mask`,
          tokenIndex,
          tokenChar,
          String(value),
        );
      }
      haveStart = true;
      start = value;
      startToken = tokenIndex;
      startChar = tokenChar;
      return;
    }
    if (value < 1) fail('length must be a positive integer', tokenIndex, tokenChar, String(value));
    const last = start + value - 1;
    if (last > total) {
      fail(
        `run ${start}..${last} goes past the last pixel ${total} of a ${width} x ${height} mask`,
        tokenIndex,
        tokenChar,
        String(value),
      );
    }
    haveStart = false;
    prevStart = start;
    prevEnd = last + 1;
    runs++;
    visit(start - 1, value);
  };

  for (const piece of pieces) {
    const n = piece.length;
    for (let i = 0; i < n; i++) {
      const c = piece.charCodeAt(i);
      if (isSpace(c)) {
        if (inToken) {
          inToken = false;
          endToken();
        }
        continue;
      }
      if (!inToken) {
        inToken = true;
        tokenChar = charBase + i + 1;
        value = 0;
        bad = false;
        quote = '';
        carried = '';
      }
      if (!bad && c >= 48 && c <= 57) {
        // Past 2^53 the value stops being exact, but it is then far beyond any image and fails the range check.
        value = value * 10 + (c - 48);
      } else if (!bad) {
        bad = true;
        quote = (carried + piece.slice(Math.max(0, tokenChar - 1 - charBase), i + 1)).slice(
          0,
          MAX_TOKEN_QUOTE,
        );
      } else if (quote.length < MAX_TOKEN_QUOTE) {
        quote += piece[i];
      }
    }
    if (inToken && !bad && carried.length < MAX_TOKEN_QUOTE) {
      carried = (carried + piece.slice(Math.max(0, tokenChar - 1 - charBase))).slice(0, MAX_TOKEN_QUOTE);
    }
    charBase += n;
  }
  if (inToken) endToken();
  if (haveStart) {
    fail(
      'a start without a length (the encoding has an odd number of tokens)',
      startToken,
      startChar,
      String(start),
    );
  }
  return runs;
}

/** The runs of an encoding held compactly: 0-based column-major starts and lengths. */
export interface RleRuns {
  width: number;
  height: number;
  starts: Float64Array;
  lengths: Float64Array;
  count: number;
}

/** Parses and validates an encoding into typed arrays of runs (memory grows with the runs, not the pixels). */
export function parseRle(text: RleText, shape: RleShape): RleRuns {
  let starts = new Float64Array(256);
  let lengths = new Float64Array(256);
  let count = 0;
  forEachRleRun(text, shape, (start, length) => {
    if (count === starts.length) {
      const grownStarts = new Float64Array(count * 2);
      grownStarts.set(starts);
      starts = grownStarts;
      const grownLengths = new Float64Array(count * 2);
      grownLengths.set(lengths);
      lengths = grownLengths;
    }
    starts[count] = start;
    lengths[count] = length;
    count++;
  });
  return {
    width: shape.width,
    height: shape.height,
    starts: starts.subarray(0, count),
    lengths: lengths.subarray(0, count),
    count,
  };
}
