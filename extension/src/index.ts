/**
 * kernelflow in JupyterLab: a launcher tile and palette entries that open the dashboard
 * in Lab tabs (same origin, through Jupyter's server), and a live runs side panel.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';

import { activateDashboard } from './dashboard';
import { RunsPanel } from './panel';

/** The dashboard in Lab tabs: commands, palette, launcher tile, layout restoring. */
const dashboardPlugin: JupyterFrontEndPlugin<void> = {
  id: 'kernelflow-lab:dashboard',
  description: 'Open the kernelflow dashboard in JupyterLab tabs.',
  autoStart: true,
  optional: [ICommandPalette, ILauncher, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    restorer: ILayoutRestorer | null
  ) => {
    activateDashboard(app, palette, launcher, restorer);
  }
};

/** The left side panel of recent runs. */
const runsPanelPlugin: JupyterFrontEndPlugin<void> = {
  id: 'kernelflow-lab:runs-panel',
  description: 'A side panel listing the current experiment’s recent runs, live.',
  autoStart: true,
  requires: [],
  optional: [ILayoutRestorer],
  activate: (app: JupyterFrontEnd, restorer: ILayoutRestorer | null) => {
    const panel = new RunsPanel(app.commands);
    app.shell.add(panel, 'left', { rank: 650 });
    if (restorer) {
      restorer.add(panel, panel.id);
    }
  }
};

export default [dashboardPlugin, runsPanelPlugin];
