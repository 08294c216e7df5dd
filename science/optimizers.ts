/**
 * The optimisers, defined once: their names (the TrialSpec type and every zod enum derive from
 * `OPTIMIZERS`), their spelling in the paper's tables, and the step size `npf train` uses when
 * given none. The updates themselves are in science/train/optimizer.ts.
 */

const DEFINITIONS = {
  sgd: { label: 'SGD', defaultLr: 1e-2 },
  adam: { label: 'Adam', defaultLr: 3e-4 },
  rmsprop: { label: 'RMSprop', defaultLr: 1e-4 },
} as const satisfies Record<string, { label: string; defaultLr: number }>;

export type OptimizerName = keyof typeof DEFINITIONS;

/** Every optimiser's name, in the order of the paper's tables (SGD rows before Adam rows). */
export const OPTIMIZERS = Object.keys(DEFINITIONS) as [OptimizerName, ...OptimizerName[]];

/** The paper's spelling ('adam' -> 'Adam'). */
export function optimizerDisplayName(name: OptimizerName): string {
  return DEFINITIONS[name].label;
}

/** The step size `npf train` uses when given none (adam 3e-4 as in the paper; sgd 1e-2; rmsprop 1e-4 as in the nu_t experiment). */
export function defaultLr(name: OptimizerName): number {
  return DEFINITIONS[name].defaultLr;
}
