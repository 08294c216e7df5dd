/** I/O: the paper's numbers for the dashboard's table and figures, read once at start-up. */
import { describeError } from '../common/errors.js';
import { loadPaperReference } from '../coordinator/results/load-paper-reference.js';
import type { ReportContext } from './sweep-report.js';

/** The reference; a missing one is logged and the dashboard shows no comparison. */
export async function loadReportContext(env: Readonly<Record<string, string | undefined>>, log: (line: string) => void): Promise<ReportContext> {
  try {
    return { env, paper: await loadPaperReference() };
  } catch (e) {
    log(`the dashboard will not show the paper's numbers: ${describeError(e)}`);
    return { env };
  }
}
