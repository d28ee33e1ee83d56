import type { CheckConfig } from '../model/check-config.js';
import { sessionControllerNames } from '../model/index.js';
import type { SessionAnalysisFactory } from '../recorder/live-findings.js';
import type { SessionReports } from '../recorder/read-routes.js';
import { createAnalyzer } from '../replayer/index.js';
import { checkSummary } from './commands/check.js';
import { buildReport, generatedAt } from './commands/export.js';

/**
 * What the recorder's online detection runs (recorder/live-findings.ts): `kreplay check`'s analysis with the same
 * options resolved the same way (the config's controller, else the session's), and its `--json` summary. Wired here
 * because the recorder may not import the replayer (STYLE.md's dependency rules).
 */
export function checkAnalysis(config: CheckConfig): SessionAnalysisFactory {
  return (session) => {
    const controller = config.controller.length ? config.controller : sessionControllerNames(session.config);
    const analyzer = createAnalyzer({ parsedConfig: config, controller });
    return {
      push: (record) => analyzer.push(record),
      finish: () => {
        const analysis = analyzer.finish();
        return { findings: analysis.findings, summary: checkSummary(session, analysis, config) };
      },
    };
  };
}

/** The recorder's json/markdown/html exports: `kreplay export SESSION --format F` of the whole session. */
export function exportReports(env: NodeJS.ProcessEnv): SessionReports {
  return {
    render: (store, session, format) =>
      buildReport(store, session, {
        format,
        window: { objects: [] },
        windowText: { from: null, to: null },
        redactPaths: [],
        summary: false,
        fullReportHint: `kreplay export ${session.name} --format markdown`,
        generatedAt: generatedAt(env),
      }).chunks,
  };
}
