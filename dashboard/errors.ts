/** Typed errors of the web dashboard. */
import { NpfError } from '../common/errors.js';

/** A sweep, trial or page the dashboard was asked for does not exist. */
export class DashboardNotFoundError extends NpfError {
  constructor(what: 'sweep' | 'trial' | 'page', id: string) {
    super('NOT_FOUND', `unknown ${what} '${id}'`, { what, id });
  }
}

/** The bundled browser code is missing (the package was not built). */
export class DashboardAssetsError extends NpfError {
  constructor(file: string) {
    super('DASHBOARD_ASSETS', `the dashboard's browser bundle ${file} is missing: run \`npm run build\``, { file });
  }
}
