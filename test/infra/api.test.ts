import { describe, expect, it } from '@jest/globals';
import { Match } from 'aws-cdk-lib/assertions';
import { ROUTES } from '../../infra/routes';
import { API_5XX_THRESHOLD, OFFSET_LAG_THRESHOLD } from '../../infra/stacks/observability-stack';
import { props, resourcesOfType, synth } from './fixtures';

type Json = Record<string, unknown>;
const routes = (variant: 'dev' | 'external' = 'dev') => resourcesOfType(synth(variant).template('api'), 'AWS::ApiGatewayV2::Route').map(([, r]) => props(r));
/** Context a deployer would tune for a real dashboard origin and traffic. */
const TUNED = { throttleRateLimit: '50', throttleBurstLimit: '75', corsOrigins: 'https://dash.example.com' };
const WRITE_ROUTES = ['POST /ticks', 'POST /ingest', 'POST /subscriptions', 'GET /subscriptions/{id}', 'DELETE /subscriptions/{id}'];

describe('HTTP API routes', () => {
  it('serves exactly the routes of the pipeline contract', () => {
    expect(routes().map((r) => r.RouteKey).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('puts the JWT authorizer on every write route', () => {
    const guarded = routes().filter((r) => r.AuthorizationType === 'JWT');
    expect(guarded.map((r) => r.RouteKey).sort()).toEqual([...WRITE_ROUTES].sort());
    for (const r of guarded) expect(r.AuthorizerId).toEqual({ Ref: expect.stringMatching(/^httpapiwriters/) });
  });

  it('leaves every read route and the dashboard public', () => {
    const open = routes().filter((r) => !WRITE_ROUTES.includes(r.RouteKey as string));
    expect(open).toHaveLength(ROUTES.length - WRITE_ROUTES.length);
    for (const r of open) {
      expect(r.AuthorizationType).toBe('NONE');
      expect(r.AuthorizerId).toBeUndefined();
    }
  });

  it('sends ingest routes to ingest and the rest to api', () => {
    const t = synth('dev').template('api');
    const integrations = new Map(resourcesOfType(t, 'AWS::ApiGatewayV2::Integration').map(([id, r]) => [id, JSON.stringify(props(r).IntegrationUri)]));
    for (const r of routes()) {
      const integrationId = ((r.Target as { 'Fn::Join': [string, [string, { Ref: string }]] })['Fn::Join'][1][1]).Ref;
      const target = ROUTES.find((x) => `${x.method} ${x.path}` === r.RouteKey)?.target;
      expect(integrations.get(integrationId)).toMatch(target === 'ingest' ? /ingest/ : /functions:ExportsOutputFnGetAttapi/);
    }
  });

  it('validates tokens from the Cognito pool it creates, for its app client', () => {
    const t = synth('dev').template('api');
    t.resourceCountIs('AWS::Cognito::UserPool', 1);
    t.hasResourceProperties('AWS::Cognito::UserPool', { AdminCreateUserConfig: { AllowAdminCreateUserOnly: true } });
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Audience: [{ Ref: Match.stringLikeRegexp('^userpoolwritersclient') }], Issuer: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('cognito-idp')])] } },
    });
  });

  it('validates tokens from an external issuer instead when one is configured', () => {
    const t = synth('external').template('api');
    t.resourceCountIs('AWS::Cognito::UserPool', 0);
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { JwtConfiguration: { Issuer: 'https://auth.example.com/', Audience: ['market-api'] } });
  });
});

describe('HTTP API stage', () => {
  it('throttles the default stage with the stage defaults', () => {
    synth('dev').template('api').hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: '$default', DefaultRouteSettings: { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 } });
  });

  it('takes throttling limits from context', () => {
    synth(TUNED).template('api').hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 75 } });
  });

  it('writes a JSON access log line per request to its own log group', () => {
    const [[, stage]] = resourcesOfType(synth('dev').template('api'), 'AWS::ApiGatewayV2::Stage') as [[string, Json]];
    const settings = props(stage).AccessLogSettings as { DestinationArn: { 'Fn::GetAtt': [string, string] }; Format: string };
    expect(settings.DestinationArn['Fn::GetAtt'][0]).toMatch(/^accessloggroup/);
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey', status: '$context.status' });
  });

  it('answers CORS preflights for the dashboard with the configured origins', () => {
    synth(TUNED)
      .template('api')
      .hasResourceProperties('AWS::ApiGatewayV2::Api', {
        CorsConfiguration: { AllowOrigins: ['https://dash.example.com'], AllowHeaders: Match.arrayWith(['authorization', 'content-type']), AllowMethods: Match.arrayWith(['GET', 'POST', 'DELETE']) },
      });
  });

  it('outputs the API URL', () => {
    const url = synth('dev').template('api').toJSON().Outputs.ApiUrl.Value as { 'Fn::Join': [string, unknown[]] };
    expect(url['Fn::Join'][1].slice(0, 3)).toEqual(['https://', { Ref: expect.stringMatching(/^httpapi/) }, '.execute-api.']);
  });
});

describe('observability', () => {
  const alarms = () => resourcesOfType(synth('dev').template('observability'), 'AWS::CloudWatch::Alarm').map(([, r]) => props(r));
  const byName = (suffix: string) => alarms().find((a) => a.AlarmName === `market-dev-${suffix}`);

  it('alarms on errors of every function', () => {
    for (const fn of ['ingest', 'process', 'signal', 'notify', 'aggregate', 'api']) {
      expect(byName(`${fn}-errors`)).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    }
  });

  it('alarms on Kafka offset lag of every consumer', () => {
    for (const fn of ['process', 'signal', 'notify', 'aggregate']) {
      expect(byName(`${fn}-offset-lag`)).toMatchObject({ MetricName: 'OffsetLag', Statistic: 'Maximum', Threshold: OFFSET_LAG_THRESHOLD });
    }
  });

  it('alarms as soon as a batch lands in a failed-batch queue', () => {
    for (const fn of ['process', 'signal', 'notify', 'aggregate']) {
      expect(byName(`${fn}-failed-batches`)).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Threshold: 1 });
    }
  });

  it('alarms on API 5xx responses', () => {
    expect(byName('api-5xx')).toMatchObject({ MetricName: '5xx', Namespace: 'AWS/ApiGateway', Threshold: API_5XX_THRESHOLD });
  });

  it('notifies the encrypted alarm topic when any alarm fires or clears', () => {
    for (const a of alarms()) {
      expect(a.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^alarmtopic/) }]);
      expect(a.OKActions).toEqual([{ Ref: expect.stringMatching(/^alarmtopic/) }]);
    }
    expect(alarms()).toHaveLength(15);
  });

  it('lets CloudWatch publish to the alarm topic and use its key', () => {
    const t = synth('dev').template('observability');
    t.hasResourceProperties('AWS::SNS::TopicPolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' })]) } });
    t.hasResourceProperties('AWS::KMS::Key', { KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey'] })]) } });
  });

  it('draws one dashboard covering API, functions, Kafka lag, failed batches and the cache', () => {
    const t = synth('dev').template('observability');
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(props(resourcesOfType(t, 'AWS::CloudWatch::Dashboard')[0]?.[1] ?? {}).DashboardBody);
    for (const metric of ['5xx', 'Invocations', 'Duration', 'OffsetLag', 'ApproximateNumberOfMessagesVisible', 'ElastiCacheProcessingUnits']) expect(body).toContain(metric);
  });

  it('outputs the dashboard URL and the signal topic ARN', () => {
    const s = synth('dev');
    expect(JSON.stringify(s.template('observability').toJSON().Outputs.DashboardUrl.Value)).toContain('#dashboards:name=');
    expect(s.template('notifications').toJSON().Outputs.SignalTopicArn.Value).toEqual({ Ref: expect.stringMatching(/^signaltopic/) });
  });

  it('subscribes the configured emails to signals and alarms', () => {
    const s = synth('prod');
    s.template('notifications').hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'desk@example.com' });
    s.template('observability').hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    synth('dev').template('notifications').resourceCountIs('AWS::SNS::Subscription', 0);
  });
});
