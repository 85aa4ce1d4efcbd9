/**
 * The one place that holds the Lambda defaults: every function of the stage (and the
 * deploy-time custom resource) is a StageFunction, so runtime, architecture, bundling,
 * logging and network placement cannot drift between functions.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledgeNag, managedPolicyFinding } from '../nag';

/** Repository root: entry points and the lockfile are resolved from here, wherever cdk runs. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** esbuild emits ESM; CommonJS dependencies that call require() need one in module scope. */
export const ESM_REQUIRE_BANNER = "import { createRequire as __cjsRequire } from 'node:module'; const require = __cjsRequire(import.meta.url);";

/**
 * Package swaps esbuild must make for the bundle to run: @platformatic/wasm-utils (under
 * @platformatic/kafka) reads `../dist/native.wasm` next to its own file at import time,
 * which does not exist inside a bundle; its `/bundled` entry inlines the same module.
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@platformatic/wasm-utils': '@platformatic/wasm-utils/bundled',
};

/** Lambda's target: Graviton (arm64) Linux with glibc (Amazon Linux 2023). */
export const LAMBDA_PREBUILD = 'linux-arm64.node';

/**
 * Whether an installed native package ships a prebuilt binary for Lambda
 * (`prebuilds/linux-arm64.node`, as better-sqlite3 >= 13 does). Such a package installs
 * on any build host with plain npm; one without must be compiled in the Lambda build image.
 */
export function shipsLambdaPrebuild(moduleName: string, root = REPO_ROOT): boolean {
  return existsSync(path.join(root, 'node_modules', moduleName, 'prebuilds', LAMBDA_PREBUILD));
}

/**
 * Shell commands run on the bundle after npm installed the native packages: keep only the
 * Lambda binary (better-sqlite3 ships eight platforms plus the SQLite sources, ~30 MB) and
 * fail the build if it is missing.
 */
export function pruneNativeModuleCommands(outputDir: string, moduleName: string): string[] {
  const dir = path.posix.join(outputDir, 'node_modules', moduleName);
  return [
    `test -f "${dir}/prebuilds/${LAMBDA_PREBUILD}" || { echo "${moduleName}: no prebuilds/${LAMBDA_PREBUILD} in the bundle" >&2; exit 1; }`,
    `find "${dir}/prebuilds" -type f ! -name "${LAMBDA_PREBUILD}" -delete`,
    `rm -rf "${dir}/deps" "${dir}/src" "${dir}/build"`,
  ];
}

export function bundledFilesCommands(outputDir: string, files: NonNullable<StageFunctionProps['bundledFiles']>): string[] {
  const to = path.posix.join(outputDir, files.to);
  return [
    ...(files.build ? [`cd "${REPO_ROOT}" && ${files.build}`] : []),
    `rm -rf "${to}" && mkdir -p "${path.posix.dirname(to)}" && cp -R "${path.posix.join(REPO_ROOT, files.from)}" "${to}"`,
  ];
}

/** A mount that also names itself to the function through an environment variable. */
export interface FunctionMount {
  readonly fileSystem: lambda.FileSystem;
  readonly environment: Readonly<Record<string, string>>;
}

export interface StageFunctionProps {
  /** Entry file, relative to the repository root (e.g. `functions/ingest/handler.ts`). */
  readonly entry: string;
  readonly description: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** Customer managed key for the function's log group. */
  readonly logKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  readonly memorySize?: number;
  readonly timeout?: Duration;
  readonly environment?: Readonly<Record<string, string>>;
  readonly reservedConcurrentExecutions?: number;
  readonly mount?: FunctionMount;
  /**
   * Attach the AWS Parameters and Secrets Lambda Extension (localhost:2773), through which
   * the Kafka adapter reads SCRAM credentials without bundling a Secrets Manager client.
   */
  readonly secretsExtension?: boolean;
  /**
   * Packages that must ship as installed node_modules instead of being bundled, because
   * they carry a native binary (better-sqlite3). Those shipping a linux-arm64 prebuild are
   * installed by npm on the build host and pruned to that binary; any other forces Docker
   * bundling in the Lambda build image for arm64, which compiles it for Amazon Linux.
   */
  readonly nativeModules?: readonly string[];
  /**
   * Files the function reads at run time, produced on the build host and copied into the
   * bundle beside the handler: `build` runs first (from the repository root), then `from`
   * (relative to the root) is copied to `to` inside the bundle.
   */
  readonly bundledFiles?: { readonly build?: string; readonly from: string; readonly to: string };
}

export class StageFunction extends NodejsFunction {
  readonly securityGroup: ec2.SecurityGroup;
  readonly functionLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: StageFunctionProps) {
    // Created beside the function, not inside it: NodejsFunction needs both at construction.
    const logGroup = new logs.LogGroup(scope, `${id}-log-group`, {
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: props.removalPolicy,
    });
    const securityGroup = new ec2.SecurityGroup(scope, `${id}-security-group`, {
      vpc: props.vpc,
      description: `${id} Lambda function`,
      // Egress is opened per need: HTTPS to the VPC's interface endpoints here, and each
      // grant (cache, file system, Kafka) adds a rule to exactly the port and peer it needs.
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(443), 'AWS APIs through interface endpoints');
    const nativeModules = [...(props.nativeModules ?? [])];
    const prebuilt = nativeModules.filter((m) => shipsLambdaPrebuild(m));
    // NodejsFunction builds its Docker image when constructed, even if the stack's bundling
    // is skipped (tests, `cdk synth -c bundling=false`); ask for Docker only when it will run.
    const dockerBundling = prebuilt.length < nativeModules.length && Stack.of(scope).bundlingRequired;
    super(scope, id, {
      entry: path.join(REPO_ROOT, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [securityGroup],
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      filesystem: props.mount?.fileSystem,
      paramsAndSecrets: props.secretsExtension ? lambda.ParamsAndSecretsLayerVersion.fromVersion(lambda.ParamsAndSecretsVersions.V1_0_103) : undefined,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...props.mount?.environment,
        ...props.environment,
      },
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        sourceMap: true,
        sourcesContent: false,
        minify: true,
        logLevel: LogLevel.WARNING,
        // The AWS SDK is bundled too, so the code runs with the versions it was tested with
        // rather than whatever the runtime image carries.
        externalModules: [],
        esbuildArgs: Object.fromEntries(Object.entries(BUNDLE_ALIASES).map(([from, to]) => [`--alias:${from}`, to])),
        nodeModules: nativeModules.length > 0 ? nativeModules : undefined,
        forceDockerBundling: dockerBundling,
        // Prebuilt packages need no install script (it would only compile for the build host).
        environment: prebuilt.length > 0 ? { npm_config_ignore_scripts: 'true' } : undefined,
        commandHooks:
          prebuilt.length > 0 || props.bundledFiles
            ? {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (_inputDir: string, outputDir: string) => [
                  ...prebuilt.flatMap((m) => pruneNativeModuleCommands(outputDir, m)),
                  ...(props.bundledFiles ? bundledFilesCommands(outputDir, props.bundledFiles) : []),
                ],
              }
            : undefined,
      },
    });
    this.securityGroup = securityGroup;
    this.functionLogGroup = logGroup;

    if (this.role) {
      acknowledgeNag(
        this.role,
        'AwsSolutions-IAM4',
        'AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole are the AWS-maintained minimum for a VPC Lambda: log delivery and ENI management, whose ec2 Describe actions cannot be scoped to resources.',
        [managedPolicyFinding('service-role/AWSLambdaBasicExecutionRole'), managedPolicyFinding('service-role/AWSLambdaVPCAccessExecutionRole')],
      );
    }
  }
}
