/**
 * figures-input.json: the documented on-disk form of FiguresInput (figure-data.ts). `npf run`
 * writes it next to results.json (adding per-trial curves, which results.json lacks), and
 * `npf plot` reads it first; users may also write one by hand. Validated once here
 * (zod) into FiguresInput; a bad file gives one FigureDataError naming file and field path.
 *
 * {
 *   "v": 1, "title": "table2-fc",
 *   "table2":   [{ "dataset": "mnist", "arch": "fc", "optimizer": "sgd", "regime": "relu", "mean": 97.8, "std": 0.1, "n": 5, "paper": 97.85 }],
 *   "stages":   [{ "label": "GCONV Adam", "points": [{ "stage": 0, "mean": 67.1, "std": 0.4, "n": 5 }], "references": [{ "label": "ReLU 80.32", "value": 80.32 }] }],
 *   "nu":       [{ "points": [{ "epoch": 0, "mean": 1.2e4, "std": 800, "n": 4, "of": 5 }], "undefinedEpochs": [] }],
 *   "ntkSplit": [{ "series": [{ "kernel": "value", "measure": "trace", "points": [{ "epoch": 0, "mean": 3.1, "std": 0.2 }] }] }],
 *   "trials":   [{ "label": "relu seed 0", "regime": "relu", "points": [{ "epoch": 1, "testAccuracy": 91.2 }] }]
 * }
 * Accuracies in percent. Every figure field is optional; stages, nu and ntkSplit hold one entry
 * per figure (group). "paper" values are filled from data/paper/*.csv when absent. A nu point's
 * "of" is the number of runs measured at that epoch when fewer ("n") gave a defined nu;
 * "undefinedEpochs" lists epochs where none did.
 */
import { z } from 'zod';
import { FigureDataError } from './errors.js';
import type { FiguresInput } from './figure-data.js';

const finite = z.number().finite();
const curvePoint = z
  .object({ epoch: finite, mean: finite, std: finite.nonnegative(), n: z.number().int().positive().optional(), of: z.number().int().positive().optional() })
  .strict()
  .refine((p) => p.of === undefined || (p.n !== undefined && p.n <= p.of), { message: 'of (runs measured) needs n (runs in the mean) and n <= of' });

export const figuresInputSchema = z
  .object({
    v: z.literal(1).optional(),
    title: z.string().optional(),
    table2: z
      .array(
        z.object({ dataset: z.string().min(1), arch: z.string().min(1), optimizer: z.string().min(1), regime: z.string().min(1), mean: finite, std: finite.nonnegative(), n: z.number().int().positive(), paper: finite.optional(), variant: z.string().optional() }).strict(),
      )
      .optional(),
    stages: z
      .array(
        z
          .object({
            label: z.string().optional(),
            points: z.array(z.object({ stage: z.number().int().min(0), mean: finite, std: finite.nonnegative(), n: z.number().int().positive(), paper: finite.optional() }).strict()),
            paperSetting: z.boolean().optional(),
            references: z.array(z.object({ label: z.string().min(1), value: finite }).strict()).optional(),
          })
          .strict(),
      )
      .optional(),
    nu: z.array(z.object({ label: z.string().optional(), points: z.array(curvePoint), undefinedEpochs: z.array(finite).optional() }).strict()).optional(),
    ntkSplit: z
      .array(
        z
          .object({
            label: z.string().optional(),
            series: z.array(z.object({ kernel: z.enum(['value', 'feature']), measure: z.enum(['trace', 'frobenius']), points: z.array(curvePoint) }).strict()),
          })
          .strict(),
      )
      .optional(),
    trials: z.array(z.object({ label: z.string().min(1), regime: z.string().min(1), points: z.array(z.object({ epoch: finite, testAccuracy: finite }).strict()) }).strict()).optional(),
  })
  .strict();

/** Parse and validate the JSON text of a figures-input file. */
export function parseFiguresInput(text: string, file = 'figures-input.json'): FiguresInput {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FigureDataError(`${file}: not valid JSON (${(err as Error).message})`, { file }, { cause: err });
  }
  const parsed = figuresInputSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '') || '(root)';
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : '';
    throw new FigureDataError(`${file}: field '${path}': ${issue.message}${more}`, { file, path });
  }
  const { v: _v, ...input } = parsed.data;
  return input;
}
