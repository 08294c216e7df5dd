/**
 * Typed errors of the dataset readers. Each one is a single sentence naming the file (or
 * directory) and what is wrong with it, so a user never sees a stack from zlib or fs.
 */
import { NpfError } from '../../common/errors.js';

/** What went wrong, for programs (tests, the rpc status mapping); people read `message`. */
export type DatasetProblem =
  /** A file or directory the dataset needs is not there (or a package that ships it is absent). */
  | 'missing'
  /** A file exists but cannot be read (permissions, a directory where a file should be...). */
  | 'unreadable'
  /** A file starts with gzip's magic bytes but does not decompress. */
  | 'bad-gzip'
  /** An IDX file's magic number is not the one expected. */
  | 'bad-magic'
  /** An IDX file has the right data type but the wrong number of dimensions. */
  | 'bad-dimensions'
  /** Images of the wrong height/width/channels for the dataset. */
  | 'bad-shape'
  /** The file's length does not match what its header (or record size) says. */
  | 'bad-length'
  /** An images file and its labels file hold different numbers of examples. */
  | 'count-mismatch'
  /** A label outside 0..numClasses-1. */
  | 'label-out-of-range'
  /** A subset asks for more examples than the split (or a class) has, or is malformed. */
  | 'bad-subset';

const CODES: Record<DatasetProblem, string> = {
  missing: 'DATASET_MISSING',
  unreadable: 'DATASET_UNREADABLE',
  'bad-gzip': 'DATASET_CORRUPT',
  'bad-magic': 'DATASET_CORRUPT',
  'bad-dimensions': 'DATASET_CORRUPT',
  'bad-shape': 'DATASET_CORRUPT',
  'bad-length': 'DATASET_CORRUPT',
  'count-mismatch': 'DATASET_CORRUPT',
  'label-out-of-range': 'DATASET_CORRUPT',
  'bad-subset': 'INVALID_INPUT',
};

/** Context kept on a DatasetError for logs; `file` is the file or directory concerned. */
export interface DatasetErrorContext {
  file?: string;
  [key: string]: unknown;
}

/**
 * The one error type the dataset readers throw. Retryable when the files are missing or
 * unreadable on this machine (another worker may have them); corrupt data or a bad subset fails
 * the same way everywhere.
 */
export class DatasetError extends NpfError {
  readonly problem: DatasetProblem;
  /** The file or directory the problem is in (absent only for bad subsets). */
  readonly file: string | undefined;

  constructor(problem: DatasetProblem, message: string, context: DatasetErrorContext = {}, options?: { cause?: unknown }) {
    super(CODES[problem], message, { problem, ...context }, { cause: options?.cause, retryable: problem === 'missing' || problem === 'unreadable' });
    this.problem = problem;
    this.file = context.file;
  }
}
