/**
 * The dashboard in Lab main-area tabs: an iframe on Jupyter's own origin at
 * `{baseUrl}kernelflow/...`, restored on reload; commands, palette entries, launcher tile.
 */
import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import {
  ICommandPalette,
  IFrame,
  InputDialog,
  MainAreaWidget,
  showErrorMessage,
  WidgetTracker
} from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { ILauncher } from '@jupyterlab/launcher';

import { requestAPI } from './api';
import { kernelflowIcon } from './icons';
import { IExperiments } from './runsview';
import {
  dashboardLinkPath,
  dashboardUrl,
  pagePath,
  relativeToDashboard,
  tabLabel
} from './urls';

/** The command ids. */
export namespace CommandIDs {
  export const open = 'kernelflow:open';
  export const openDashboard = 'kernelflow:open-dashboard';
  export const openRuns = 'kernelflow:open-runs';
  export const openModels = 'kernelflow:open-models';
  export const openRun = 'kernelflow:open-run';
}

/** What the iframe may do: the dashboard runs scripts, forms and downloads on our origin. */
const SANDBOX: IFrame.SandboxExceptions[] = [
  'allow-scripts',
  'allow-same-origin',
  'allow-forms',
  'allow-popups',
  'allow-downloads' as IFrame.SandboxExceptions
];

/** A dashboard page in an iframe; `path` follows the user's navigation inside it. */
export class DashboardFrame extends IFrame {
  constructor(path: string) {
    super({ sandbox: SANDBOX, referrerPolicy: 'same-origin' });
    this.addClass('kf-lab-dashboard');
    this.path = path;
    this.url = dashboardUrl(PageConfig.getBaseUrl(), path);
    const iframe = this.node.querySelector('iframe');
    iframe?.addEventListener('load', () => this._followNavigation(iframe));
  }

  /** The dashboard-relative path shown (`runs?experiment=digits`). */
  path: string;

  /** Called when the page inside changes (same origin, so its location is readable). */
  onNavigate: ((path: string) => void) | null = null;

  private _followNavigation(iframe: HTMLIFrameElement): void {
    let loc: Location | undefined;
    try {
      loc = iframe.contentWindow?.location;
    } catch (e) {
      return; // another origin: keep the last path
    }
    if (!loc) {
      return;
    }
    const basePath = new URL(PageConfig.getBaseUrl(), window.location.href).pathname;
    const path = relativeToDashboard(basePath, loc.pathname, loc.search);
    if (path !== null && path !== this.path) {
      this.path = path;
      this.onNavigate?.(path);
    }
  }
}

/** Ask which experiment (the current one first); null when cancelled. */
async function pickExperiment(): Promise<string | null> {
  const data = await requestAPI<IExperiments>('experiments');
  const names = data.experiments.map(e => e.name);
  if (!names.length) {
    await showErrorMessage('kernelflow', `No experiments yet in ${data.store}.`);
    return null;
  }
  const current = data.experiments.find(e => e.id === data.current);
  const result = await InputDialog.getItem({
    title: 'Open the runs of an experiment',
    items: names,
    current: current ? names.indexOf(current.name) : 0
  });
  return result.button.accept ? result.value : null;
}

/** Register the dashboard commands, the palette entries, the launcher tile and restoring. */
export function activateDashboard(
  app: JupyterFrontEnd,
  palette: ICommandPalette | null,
  launcher: ILauncher | null,
  restorer: ILayoutRestorer | null
): WidgetTracker<MainAreaWidget<DashboardFrame>> {
  const tracker = new WidgetTracker<MainAreaWidget<DashboardFrame>>({ namespace: 'kernelflow' });
  let counter = 0;

  const open = (path: string): MainAreaWidget<DashboardFrame> => {
    const content = new DashboardFrame(path);
    const widget = new MainAreaWidget({ content });
    widget.id = `kernelflow-dashboard-${++counter}`;
    widget.title.label = tabLabel(path);
    widget.title.caption = `kernelflow dashboard: /${path}`;
    widget.title.icon = kernelflowIcon;
    widget.title.closable = true;
    content.onNavigate = newPath => {
      widget.title.label = tabLabel(newPath);
      void tracker.save(widget);
    };
    void tracker.add(widget);
    app.shell.add(widget, 'main');
    app.shell.activateById(widget.id);
    return widget;
  };

  app.commands.addCommand(CommandIDs.open, {
    label: args => (args.label as string) || 'Open a kernelflow dashboard page',
    icon: args => (args.isPalette ? undefined : kernelflowIcon),
    execute: args => open((args.path as string) || '')
  });
  app.commands.addCommand(CommandIDs.openDashboard, {
    label: 'kernelflow: Open the Dashboard',
    caption: 'The kernelflow dashboard (experiments) in a Lab tab',
    icon: args => (args.isPalette ? undefined : kernelflowIcon),
    execute: () => open('')
  });
  app.commands.addCommand(CommandIDs.openRuns, {
    label: args =>
      args.experiment
        ? `kernelflow: Open the Runs of ${args.experiment as string}`
        : 'kernelflow: Open the Runs of an Experiment',
    caption: 'The runs table of an experiment (asks which one when none is given)',
    execute: async args => {
      if (args.experiment) {
        return open(pagePath({ page: 'runs', query: { experiment: args.experiment as string } }));
      }
      if (args.experimentId) {
        return open(
          pagePath({ page: 'runs', query: { experiment_id: args.experimentId as string } })
        );
      }
      const name = await pickExperiment();
      return name === null
        ? undefined
        : open(pagePath({ page: 'runs', query: { experiment: name } }));
    }
  });
  app.commands.addCommand(CommandIDs.openModels, {
    label: 'kernelflow: Open the Models',
    caption: 'The model registry in a Lab tab',
    execute: () => open('models')
  });
  app.commands.addCommand(CommandIDs.openRun, {
    label: 'kernelflow: Open a Run',
    execute: args => open(pagePath({ page: 'run', query: { id: args.runId as string } }))
  });

  // `%kf dashboard` prints links marked data-kernelflow-lab: open them in a Lab tab
  document.addEventListener(
    'click',
    event => {
      const link = (event.target as Element | null)?.closest?.('a[data-kernelflow-lab]');
      if (!link || event.button !== 0) {
        return;
      }
      const path = dashboardLinkPath(
        (link as HTMLAnchorElement).href,
        window.location.href,
        PageConfig.getBaseUrl()
      );
      if (path !== null) {
        event.preventDefault();
        open(path);
      }
    },
    true
  );

  if (palette) {
    const category = 'kernelflow';
    for (const command of [CommandIDs.openDashboard, CommandIDs.openRuns, CommandIDs.openModels]) {
      palette.addItem({ command, category });
    }
  }
  if (launcher) {
    launcher.add({
      command: CommandIDs.open,
      args: { label: 'kernelflow' },
      category: 'Other',
      rank: 1
    });
  }
  if (restorer) {
    void restorer.restore(tracker, {
      command: CommandIDs.open,
      args: widget => ({ path: widget.content.path }),
      name: widget => widget.content.path || 'experiments'
    });
  }
  return tracker;
}
