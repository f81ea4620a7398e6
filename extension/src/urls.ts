/**
 * Addresses of the dashboard pages, served by Jupyter at `{baseUrl}kernelflow/`.
 * No JupyterLab imports here: the unit tests load this module directly.
 */

/** The path, under the Jupyter server's base URL, where the dashboard is proxied. */
export const DASHBOARD_PATH = 'kernelflow/';

/** The path of the side panel's JSON API (the server extension). */
export const API_PATH = 'kernelflow-lab';

/** A dashboard page: `''` (experiments), `runs`, `run`, `models`, `model`, `compare`... */
export interface IPage {
  page: string;
  query?: { [key: string]: string };
}

/** Join URL parts with single slashes, keeping a trailing slash on the last part. */
export function join(...parts: string[]): string {
  const kept = parts.filter(p => p !== '');
  return kept
    .map((p, i) => {
      let s = p;
      if (i > 0) {
        s = s.replace(/^\/+/, '');
      }
      if (i < kept.length - 1) {
        s = s.replace(/\/+$/, '');
      }
      return s;
    })
    .join('/');
}

/** The page's path relative to the dashboard root, with its query: `run?id=abc`. */
export function pagePath(target: IPage): string {
  const page = target.page.replace(/^\/+/, '');
  const query = Object.entries(target.query || {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return query ? `${page}?${query}` : page;
}

/** The absolute path of a dashboard page on this Jupyter server. */
export function dashboardUrl(baseUrl: string, path: string): string {
  return join(baseUrl, DASHBOARD_PATH, path.replace(/^\/+/, ''));
}

/**
 * The dashboard-relative path of a URL the dashboard iframe shows, or null when the URL
 * is not under the dashboard (the user followed a link elsewhere).
 */
export function relativeToDashboard(baseUrl: string, pathname: string, search = ''): string | null {
  const root = dashboardUrl(baseUrl, '');
  if (!pathname.startsWith(root)) {
    return null;
  }
  return pathname.slice(root.length) + search;
}

/** The tab label for a dashboard path: "kernelflow", "kernelflow: runs"... */
export function tabLabel(path: string): string {
  const page = path.split('?')[0].replace(/^\/+|\/+$/g, '');
  return page ? `kernelflow: ${page}` : 'kernelflow';
}

/**
 * The dashboard-relative path a link to the Lab-served dashboard points at (the links
 * `%kf dashboard` prints), or null for a link elsewhere (another origin or path).
 */
export function dashboardLinkPath(href: string, pageHref: string, baseUrl: string): string | null {
  let url: URL;
  let page: URL;
  try {
    page = new URL(pageHref);
    url = new URL(href, page);
  } catch (e) {
    return null;
  }
  if (url.origin !== page.origin) {
    return null;
  }
  const basePath = new URL(baseUrl, page).pathname;
  return relativeToDashboard(basePath, url.pathname, url.search);
}
