/** The datasets of the science core: see `loadDataset`. */
export { loadDataset, defaultDatasetCache, type LoadDatasetOptions } from './load-dataset.js';
export { DatasetCache } from './dataset-cache.js';
export { DatasetError, type DatasetProblem } from './errors.js';
export { flatInputSize, exampleView, type Dataset, type Split, type RawSplit } from './dataset.js';
export { DEFAULT_FASHION_MNIST_DIR, type DatasetLocations } from './locate-files.js';
export { BINARY_MNIST_DIGITS } from './binary-mnist.js';
export { DATASETS, datasetDefinition, type DatasetDefinition, type DatasetName } from './registry.js';
