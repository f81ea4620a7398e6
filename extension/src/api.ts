/** Calls to the server extension's JSON API (`{baseUrl}kernelflow-lab/...`). */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { API_PATH } from './urls';

/**
 * GET `endpoint` of the kernelflow-lab API as JSON, with Jupyter's credentials.
 *
 * @throws Error with the server's message when the answer is not 2xx.
 */
export async function requestAPI<T>(
  endpoint: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_PATH, endpoint);
  const response = await ServerConnection.makeRequest(url, {}, settings);
  let data: any = await response.text();
  if (data.length > 0) {
    try {
      data = JSON.parse(data);
    } catch (error) {
      // not JSON: keep the text for the message
    }
  }
  if (!response.ok) {
    const message = data && data.message ? data.message : String(data || response.statusText);
    throw new Error(`kernelflow: ${message}`);
  }
  return data as T;
}
