/**
 * API: an HTTP API (payload format 2.0) in front of the ingest and api functions. Write
 * routes carry a JWT authorizer: a Cognito user pool created here by default, or an
 * external issuer/audience from context. The $default stage is throttled, logs every
 * request as JSON to an encrypted log group, and answers CORS preflights for the dashboard.
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer, HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { InfraConfig } from '../config';
import type { StageFunction } from '../constructs/stage-function';
import { acknowledgeNag } from '../nag';
import { ROUTES, type RouteTarget } from '../routes';
import { removalPolicyFor, retentionFor } from './stage-policies';

export interface ApiStackProps extends StackProps {
  readonly config: InfraConfig;
  readonly logKey: kms.IKey;
  readonly targets: Record<RouteTarget, StageFunction>;
}

/** HTTP API variables (not the REST API ones): one JSON object per request. */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  method: '$context.httpMethod',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
} as const;

export class ApiStack extends Stack {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly userPool?: cognito.UserPool;
  readonly userPoolClient?: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = removalPolicyFor(config.stage);

    let authorizer: apigw.IHttpRouteAuthorizer;
    if (config.auth.kind === 'jwt') {
      authorizer = new HttpJwtAuthorizer('writers', config.auth.issuer, { jwtAudience: [...config.auth.audience] });
    } else {
      this.userPool = new cognito.UserPool(this, 'user-pool', {
        userPoolName: `${config.prefix}-writers`,
        selfSignUpEnabled: false,
        signInAliases: { email: true },
        passwordPolicy: { minLength: 12, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true, tempPasswordValidity: Duration.days(3) },
        mfa: cognito.Mfa.OPTIONAL,
        mfaSecondFactor: { otp: true, sms: false },
        accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
        featurePlan: cognito.FeaturePlan.ESSENTIALS,
        deletionProtection: config.stage === 'prod',
        removalPolicy,
      });
      acknowledgeNag(
        this.userPool,
        'AwsSolutions-COG2',
        'Accounts here are operators and ingest jobs that call write routes with a short-lived token; TOTP MFA is offered (optional) because a required second factor would block unattended ingest clients.',
      );
      acknowledgeNag(
        this.userPool,
        'AwsSolutions-COG8',
        'Threat protection needs the Plus feature plan, billed per active user; the pool has no self sign-up and only admin-created accounts, so Essentials with a strong password policy is enough.',
      );
      this.userPoolClient = this.userPool.addClient('writers-client', {
        authFlows: { userPassword: true, userSrp: true },
        generateSecret: false,
        preventUserExistenceErrors: true,
        accessTokenValidity: Duration.hours(1),
        idTokenValidity: Duration.hours(1),
        refreshTokenValidity: Duration.days(30),
      });
      authorizer = new HttpUserPoolAuthorizer('writers', this.userPool, { userPoolClients: [this.userPoolClient] });
      new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId, description: 'Cognito user pool for write-route users' });
      new CfnOutput(this, 'UserPoolClientId', { value: this.userPoolClient.userPoolClientId, description: 'App client to request tokens with (USER_PASSWORD_AUTH)' });
    }

    this.api = new apigw.HttpApi(this, 'http-api', {
      apiName: `${config.prefix}-api`,
      description: `${config.prefix} market stream API`,
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: [...config.corsOrigins],
        allowMethods: [apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST, apigw.CorsHttpMethod.DELETE, apigw.CorsHttpMethod.OPTIONS],
        allowHeaders: ['authorization', 'content-type', 'if-none-match'],
        exposeHeaders: ['etag'],
        maxAge: Duration.hours(1),
      },
    });

    const accessLogs = new logs.LogGroup(this, 'access-log-group', {
      retention: retentionFor(config),
      encryptionKey: props.logKey,
      removalPolicy,
    });
    this.stage = new apigw.HttpStage(this, 'default-stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.throttle.rateLimit, burstLimit: config.throttle.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    const integrations: Record<RouteTarget, HttpLambdaIntegration> = {
      ingest: new HttpLambdaIntegration('ingest-integration', props.targets.ingest),
      api: new HttpLambdaIntegration('api-integration', props.targets.api),
    };
    for (const route of ROUTES) {
      const created = this.api.addRoutes({
        path: route.path,
        methods: [route.method as apigw.HttpMethod],
        integration: integrations[route.target],
        authorizer: route.auth ? authorizer : undefined,
      });
      if (!route.auth) {
        for (const r of created) {
          acknowledgeNag(r, 'AwsSolutions-APIG4', `${route.method} ${route.path} is a public read route (market data or the dashboard); only write routes require a JWT.`);
        }
      }
    }

    new CfnOutput(this, 'ApiUrl', { value: this.stage.url, description: 'Base URL of the HTTP API and dashboard' });
  }
}
