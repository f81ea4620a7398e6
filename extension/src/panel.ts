/**
 * The left side panel: the current experiment's recent runs, an experiment picker, live
 * refresh while runs are running (polling with backoff, paused while hidden).
 */
import { ServerConnection } from '@jupyterlab/services';
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { requestAPI } from './api';
import { CommandIDs } from './dashboard';
import { kernelflowIcon } from './icons';
import { IPollOutcome, Poller } from './poller';
import {
  anyRunning,
  fingerprint,
  IExperiments,
  IRuns,
  renderExperiments,
  renderRuns
} from './runsview';
import { dashboardUrl } from './urls';

const MAX_RUNS = 30;

/** Reads the panel's data; the default asks the server extension. */
export type Fetch = <T>(endpoint: string) => Promise<T>;

export class RunsPanel extends Widget {
  constructor(
    private commands: CommandRegistry,
    private fetch: Fetch = requestAPI
  ) {
    super();
    this.id = 'kernelflow-runs';
    this.addClass('kf-lab-panel');
    this.title.icon = kernelflowIcon;
    this.title.caption = 'kernelflow runs';
    this.node.innerHTML =
      '<div class="kf-lab-header"><span class="kf-lab-title">kernelflow</span>' +
      '<button class="kf-lab-open jp-mod-styled" title="Open the dashboard in a tab">Dashboard</button>' +
      '</div><label class="kf-lab-picker">Experiment <select class="jp-mod-styled"></select></label>' +
      '<div class="kf-lab-status" role="status"></div><ul class="kf-lab-runs"></ul>';
    this.select = this.node.querySelector('select') as HTMLSelectElement;
    this.list = this.node.querySelector('.kf-lab-runs') as HTMLElement;
    this.status = this.node.querySelector('.kf-lab-status') as HTMLElement;
    this.select.addEventListener('change', () => {
      this.chosen = this.select.value || null;
      this.shown = '';
      void this.poller.refresh();
    });
    this.node.querySelector('.kf-lab-open')?.addEventListener('click', () => {
      void this.commands.execute(
        this.experimentId ? CommandIDs.openRuns : CommandIDs.openDashboard,
        this.experimentId ? { experimentId: this.experimentId } : {}
      );
    });
    this.poller = new Poller(() => this.poll());
    this.poller.pause();
    this.onVisibility = () => this.followVisibility();
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  /** The experiment shown. */
  experimentId: string | null = null;

  /** The poller (exposed for tests and the refresh command). */
  readonly poller: Poller;

  dispose(): void {
    this.poller.dispose();
    document.removeEventListener('visibilitychange', this.onVisibility);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    this.followVisibility();
  }

  protected onAfterHide(msg: Message): void {
    this.followVisibility();
  }

  protected onAfterAttach(msg: Message): void {
    this.followVisibility();
  }

  private followVisibility(): void {
    if (this.isVisible && !document.hidden) {
      this.warmDashboard();
      void this.poller.resume();
    } else {
      this.poller.pause();
    }
  }

  /**
   * Start the dashboard process (jupyter-server-proxy starts it on first use) while the
   * user looks at the runs, so the run page a click opens does not wait for it.
   */
  private warmDashboard(): void {
    if (this.warmed) {
      return;
    }
    this.warmed = true;
    const settings = ServerConnection.makeSettings();
    const url = dashboardUrl(settings.baseUrl, 'health');
    ServerConnection.makeRequest(url, {}, settings).catch(() => {
      this.warmed = false; // try again next time the panel shows
    });
  }

  private async poll(): Promise<IPollOutcome> {
    let experiments: IExperiments;
    try {
      experiments = await this.fetch<IExperiments>('experiments');
    } catch (error) {
      this.status.textContent = String((error as Error).message || error);
      return { ok: false, changed: false, running: false };
    }
    const ids = experiments.experiments.map(e => e.id);
    const id = this.chosen && ids.includes(this.chosen) ? this.chosen : experiments.current;
    renderExperiments(this.select, experiments.experiments, id);
    this.experimentId = id;
    if (id === null) {
      this.status.textContent = `No experiments yet in ${experiments.store}.`;
      this.list.textContent = '';
      return { ok: true, changed: false, running: false };
    }
    let runs: IRuns;
    try {
      runs = await this.fetch<IRuns>(
        `runs?experiment_id=${encodeURIComponent(id)}&max_results=${MAX_RUNS}`
      );
    } catch (error) {
      this.status.textContent = String((error as Error).message || error);
      return { ok: false, changed: false, running: false };
    }
    this.status.textContent = '';
    const print = fingerprint(runs);
    const changed = print !== this.shown;
    const running = anyRunning(runs);
    if (changed || running) {
      renderRuns(this.list, runs, runId =>
        void this.commands.execute(CommandIDs.openRun, { runId })
      );
      this.shown = print;
    }
    return { ok: true, changed, running };
  }

  private select: HTMLSelectElement;
  private list: HTMLElement;
  private status: HTMLElement;
  private chosen: string | null = null;
  private shown = '';
  private warmed = false;
  private onVisibility: () => void;
}
