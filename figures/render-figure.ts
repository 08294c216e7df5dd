/**
 * Rendering edge: vega-lite spec -> vega (compile) -> SVG with vega's View.toSVG() headless
 * (renderer 'none', no browser, no canvas) -> PNG with @resvg/resvg-js, written as
 * <dir>/<name>.svg and <dir>/<name>.png.
 *
 * Text: resvg draws no text without a font. DejaVu Sans (Debian fonts-dejavu-core, installed by
 * .ci/run) is loaded from the usual paths; otherwise resvg falls back to the system fonts.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { describeError } from '../common/errors.js';
import { FONT, type Figure, type FigureSpec } from './figure-common.js';
import { FigureRenderError } from './errors.js';

const FONT_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/dejavu', '/usr/local/share/fonts'];
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'];

/** DejaVu Sans files found on this machine (may be empty). */
export function findFontFiles(dirs: readonly string[] = FONT_DIRS): string[] {
  const found: string[] = [];
  for (const d of dirs) for (const f of FONT_FILES) if (existsSync(join(d, f))) found.push(join(d, f));
  return found;
}

/** Compile a vega-lite spec to a vega spec (throws FigureRenderError naming the figure). */
export function compileFigure(name: string, spec: FigureSpec): vega.Spec {
  try {
    return compile(spec).spec as vega.Spec;
  } catch (err) {
    throw new FigureRenderError(`figure '${name}': vega-lite could not compile the spec: ${describeError(err)}`, { figure: name }, { cause: err });
  }
}

/** Headless SVG of a vega-lite spec. */
export async function renderSvg(name: string, spec: FigureSpec): Promise<string> {
  const vgSpec = compileFigure(name, spec);
  let view: vega.View | undefined;
  try {
    view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logLevel: vega.Warn });
    return await view.toSVG();
  } catch (err) {
    throw new FigureRenderError(`figure '${name}': vega could not render SVG: ${describeError(err)}`, { figure: name }, { cause: err });
  } finally {
    view?.finalize();
  }
}

export interface PngOptions {
  /** Pixel scale factor over the SVG's size, default 2. */
  scale?: number;
  /** Font files for text; default: DejaVu Sans found by findFontFiles(). */
  fontFiles?: string[];
}

/** PNG bytes of an SVG string. */
export function svgToPng(name: string, svg: string, opts: PngOptions = {}): { png: Buffer; width: number; height: number } {
  const fontFiles = opts.fontFiles ?? findFontFiles();
  try {
    const rendered = new Resvg(svg, {
      background: 'white',
      fitTo: { mode: 'zoom', value: opts.scale ?? 2 },
      font: { fontFiles, loadSystemFonts: fontFiles.length === 0, defaultFontFamily: FONT, sansSerifFamily: FONT },
    }).render();
    return { png: rendered.asPng(), width: rendered.width, height: rendered.height };
  } catch (err) {
    throw new FigureRenderError(`figure '${name}': resvg could not render PNG: ${describeError(err)}`, { figure: name }, { cause: err });
  }
}

export interface RenderedFigure {
  name: string;
  svgPath: string;
  pngPath: string;
  width: number;
  height: number;
}

/** Write <dir>/<name>.svg and <dir>/<name>.png (creates dir). */
export async function renderFigure(figure: Figure, dir: string, opts: PngOptions = {}): Promise<RenderedFigure> {
  const svg = await renderSvg(figure.name, figure.spec);
  const { png, width, height } = svgToPng(figure.name, svg, opts);
  await mkdir(dir, { recursive: true });
  const svgPath = join(dir, `${figure.name}.svg`);
  const pngPath = join(dir, `${figure.name}.png`);
  await writeFile(svgPath, svg);
  await writeFile(pngPath, png);
  return { name: figure.name, svgPath, pngPath, width, height };
}
