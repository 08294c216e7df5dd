/** I/O: the paper's numbers for the dashboard's table and figures, read once at start-up. */
import { describeError } from '../common/errors.js';
import { loadPaperReference as loadResultsPaper } from '../coordinator/results/load-paper-reference.js';
import { defaultPaperDir, loadPaperReference as loadFiguresPaper } from '../figures/paper-reference.js';
import type { ReportContext } from './sweep-report.js';

/** Both references; a missing one is logged and the dashboard shows no comparison. */
export async function loadReportContext(env: Readonly<Record<string, string | undefined>>, log: (line: string) => void): Promise<ReportContext> {
  const ctx: ReportContext = { env };
  try {
    ctx.resultsPaper = await loadResultsPaper();
  } catch (e) {
    log(`the dashboard's table will not show the paper's numbers: ${describeError(e)}`);
  }
  try {
    const dir = defaultPaperDir();
    if (dir) ctx.figuresPaper = loadFiguresPaper(dir);
  } catch (e) {
    log(`the dashboard's figures will not show the paper's numbers: ${describeError(e)}`);
  }
  return ctx;
}
