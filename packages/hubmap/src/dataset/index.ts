export { type DataFolder, nodeDataFolder, readSourceText, sourceChunks } from './data-folder.js';
export { type Fold, kFoldSplit } from './folds.js';
export { type ImageInformation, readImageInformation } from './information.js';
export {
  type Dataset,
  DatasetError,
  type DatasetImage,
  type LoadDatasetOptions,
  loadDataset,
  openDatasetImage,
  type TrainImage,
} from './load-dataset.js';
