/**
 * `npm run gen:trial-schema`: writes docs/trial-spec.schema.json from the zod schema of a trial
 * spec (science/trial-spec-json-schema.ts). A test fails when the committed file differs.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { trialSpecJsonSchemaText } from './trial-spec-json-schema.js';

// dist/science/gen-trial-schema.js -> <root>/docs/trial-spec.schema.json
const out = fileURLToPath(new URL('../../docs/trial-spec.schema.json', import.meta.url));
writeFileSync(out, trialSpecJsonSchemaText());
console.log(`wrote ${out}`);
