/** The kernelflow icon (launcher tile, side panel tab, dashboard tabs). */
import { LabIcon } from '@jupyterlab/ui-components';

import kernelflowSvg from '../style/icons/kernelflow.svg';

export const kernelflowIcon = new LabIcon({
  name: 'kernelflow-lab:kernelflow',
  svgstr: kernelflowSvg
});
