import chalk from 'chalk';
import { graphStats } from '../../ir/stats.js';
import { importOnnxFile } from '../../onnx/import.js';
import { fmtInt, table } from '../table.js';
import { asciiJson, terminalText } from '../../util/text.js';

export function infoCommand(model: string, json: boolean): void {
  const g = importOnnxFile(model);
  const st = graphStats(g);
  if (json) {
    console.log(asciiJson({ model, input: g.input.shape, opset: g.source.opset, params: st.params, macs: st.macs, layers: st.layers }));
    return;
  }
  const shape = (s: number[]) => `[${s.join('x')}]`;
  console.log(
    chalk.bold(terminalText(model, 400)) + chalk.dim(`  opset ${g.source.opset}, producer ${terminalText(g.source.producer || 'unknown')}`),
  );
  console.log(
    table(
      ['layer', 'op', 'input', 'output', 'params', 'MACs'],
      st.layers.map((l) => [l.name, l.kind, shape(l.inputShape), shape(l.outputShape), l.params, l.macs]),
    ),
  );
  console.log(
    `${chalk.bold('total')}: ${fmtInt(st.params)} parameters, ${fmtInt(st.macs)} MACs per image, input [N, ${g.input.shape.join(', ')}]`,
  );
}
