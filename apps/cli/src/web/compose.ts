import { splitPath } from '../host/browser-path.js';

/** A word as a shell (and the console) reads it back unchanged: quoted only when it has to be. */
export function quoteWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A command line from its words, for the console to show and run. */
export function commandLine(words: readonly string[]): string {
  return words.map(quoteWord).join(' ');
}

/** The folder that holds everything picked at once (`kidney` for `kidney/train.csv`, …). */
export function topFolder(paths: readonly string[]): string | undefined {
  const tops = new Set(paths.map((path) => path.split('/')[0]));
  return tops.size === 1 && paths.some((path) => path.includes('/')) ? [...tops][0] : undefined;
}

/** `train` on a picked data folder (the Kaggle layout: train.csv, train/*.tiff, …), writing into `run`. */
export function trainLine(dataFolder: string, run = 'run'): string {
  return commandLine(['train', '--data', dataFolder, '--out', run]);
}

/** The folder predict reads slides from when they were picked as single files. */
export const PICKED_SLIDES = 'slides';

/** What a pick for `predict` holds: one model and the slides to run it on. */
export function sortPredictPick(names: readonly string[]): { models: string[]; slides: string[] } {
  const extension = (name: string) => splitPath(name)[1].toLowerCase().split('.').at(-1);
  return {
    models: names.filter((name) => extension(name) === 'safetensors'),
    slides: names.filter((name) => ['tif', 'tiff'].includes(extension(name) ?? '')),
  };
}

/** `predict` with a picked model over the folder of picked slides. */
export function predictLine(model: string, images = PICKED_SLIDES, out = 'submission.csv'): string {
  return commandLine(['predict', '--model', model, '--images', images, '--out', out]);
}
