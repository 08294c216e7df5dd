/**
 * The TrialSpec YAML format (what `npf train --spec FILE` reads) as a JSON Schema, generated from
 * the zod schema that validates it (science/trial-spec.ts), with a description for each field.
 * docs/trial-spec.schema.json is this, written by `npm run gen:trial-schema`; a test keeps the
 * committed file equal to it. Editors that read JSON Schema (yaml-language-server:
 * `# yaml-language-server: $schema=...`) complete and check trial files with it.
 */
import { zodToJsonSchema, type JsonSchema } from '../common/zod-json-schema.js';
import { trialSpecSchema } from './trial-spec.js';

/** Descriptions by field path ('dataset.trainSubset.first'); '[]' for a list's items. */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  '': 'One training trial of npf-sweep: the network, the regime, the data and the optimiser (npf train --spec FILE). Flags of npf train override the file.',
  dataset: 'The data set and the part of it to use.',
  'dataset.name': 'Data set (science/datasets/registry.ts).',
  'dataset.dir': 'Directory holding the files (required for cifar10 and cifar100).',
  'dataset.trainSubset': 'Train on a part of the training set: give first or perClass, not both.',
  'dataset.trainSubset.first': 'The first N examples.',
  'dataset.trainSubset.perClass': 'The first N examples of each class.',
  'dataset.testSubset': 'Test on a part of the test set: give first or perClass, not both.',
  'dataset.testSubset.first': 'The first N examples.',
  'dataset.testSubset.perClass': 'The first N examples of each class.',
  arch: 'The network: fc (width, depth hidden layers), or the convolutional vconv / gconv of docs/protocol.md.',
  regime: 'How the gates are obtained (docs/protocol.md): relu, frnpf-ii, frnpf-di, dnpfl, flnpf (gates from a ReLU checkpoint), stage (with stage k).',
  stage: "For regime 'stage': k (0 = frnpf-ii; k >= 1 takes gates from the ReLU run's best@<k*stageEvery> checkpoint).",
  stageEvery: "For regime 'stage': ReLU epochs per stage (default 10, the paper's).",
  gate: 'Soft gates of DNPFL: sigmoid sharpness beta and lift eps.',
  optimizer: 'Optimiser and step size.',
  'optimizer.lr': 'Step size (npf train --lr; default per optimiser there).',
  loss: "Training loss (default: the data set's: squared for binary-mnist, cross-entropy otherwise).",
  init: 'Weight initialisation.',
  epochs: 'Passes over the training data.',
  batchSize: 'Minibatch size.',
  seed: 'Seed of every random stream of the trial (weights, data order, gates).',
  backend: 'TensorFlow.js backend; auto picks the best one installed.',
  checkpoints: 'Checkpoints to write (a ReLU parent of flnpf and stages): best, final, best-so-far at given epochs.',
  'checkpoints.bestAtEpochs': 'Write the best-so-far weights as of each of these epochs (best@k).',
  measure: 'Measurements during training: the NPK (nu_t, docs/nu.md) and the NTK split (docs/ntk-split.md).',
};

function describe(s: JsonSchema, path: string): JsonSchema {
  const out: JsonSchema = { ...s };
  if (DESCRIPTIONS[path] !== undefined) out.description = DESCRIPTIONS[path];
  if (s.properties) {
    out.properties = Object.fromEntries(
      Object.entries(s.properties as Record<string, JsonSchema>).map(([k, v]) => [k, describe(v, path ? `${path}.${k}` : k)]),
    );
  }
  if (s.items) out.items = describe(s.items as JsonSchema, `${path}[]`);
  for (const alt of ['anyOf', 'oneOf'] as const) if (s[alt]) out[alt] = (s[alt] as JsonSchema[]).map((a) => describe(a, path));
  return out;
}

/** The JSON Schema of a trial spec file. Pure. */
export function trialSpecJsonSchema(): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'npf-sweep trial spec',
    ...describe(zodToJsonSchema(trialSpecSchema), ''),
  };
}

/** The text of docs/trial-spec.schema.json. */
export function trialSpecJsonSchemaText(): string {
  return `${JSON.stringify(trialSpecJsonSchema(), null, 2)}\n`;
}
