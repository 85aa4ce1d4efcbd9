/**
 * CDK entry point (cdk.json "app"). Context keys are documented in docs/deploy.md and
 * validated in infra/config.ts; `-c bundling=false` synthesizes without building code.
 */
import { App } from 'aws-cdk-lib';
import { ContextError, parseInfraConfig } from './config';
import { addNagChecks, buildMarketApp } from './market-app';

/** The CLI's own bundling switch, honoured also for `cdk synth`, which otherwise always bundles. */
const BUNDLING_STACKS = 'aws:cdk:bundling-stacks';

const app = new App();
const context = app.node.getAllContext() as Record<string, unknown>;
const { bundling, ...rest } = context;
if (bundling === false || bundling === 'false') app.node.setContext(BUNDLING_STACKS, []);

try {
  const { config, warnings } = parseInfraConfig(rest);
  for (const w of warnings) console.warn(`warning: ${w}`);
  buildMarketApp(app, config);
  addNagChecks(app);
  app.synth();
} catch (error) {
  if (error instanceof ContextError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
