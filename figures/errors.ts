/**
 * Typed errors of the figures area: missing/empty/invalid figure data, rendering failures.
 */
import { InvalidInputError, NpfError } from '../common/errors.js';

/** A figure has no data, or its data is malformed (names the figure and the field). */
export class FigureDataError extends InvalidInputError {}

/** vega / resvg failed to turn a valid spec into SVG or PNG. */
export class FigureRenderError extends NpfError {
  constructor(message: string, context: Record<string, unknown>, options?: { cause?: unknown }) {
    super('FIGURE_RENDER', message, context, options);
  }
}
