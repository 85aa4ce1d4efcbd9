import { describe, expect, it } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { StageFunction } from '../../infra/constructs/stage-function';
import { TOPICS } from '../../shared/config';
import { DATA_MOUNT_PATH, SQLITE_PATH } from '../../infra/stacks/storage-stack';
import { KAFKA_RETRY_ATTEMPTS, type FunctionName } from '../../infra/stacks/functions-stack';
import { INTERFACE_ENDPOINTS } from '../../infra/stacks/network-stack';
import { logicalIdOf, props, resourcesOfType, synth } from './fixtures';

type Json = Record<string, unknown>;

const dev = () => synth('dev');
const fnId = (fn: FunctionName, variant: 'dev' | 'prod' | 'external' = 'dev') => {
  const s = synth(variant);
  return logicalIdOf(s.stacks.functions.functions[fn], s.stacks.functions);
};
const mappings = (variant: 'dev' | 'external' = 'dev') => resourcesOfType(synth(variant).template('functions'), 'AWS::Lambda::EventSourceMapping').map(([, r]) => props(r));
const targetOf = (m: Json) => (m.FunctionName as { Ref: string }).Ref;
const fnProps = (fn: FunctionName, variant: 'dev' | 'prod' | 'external' = 'dev') => props(synth(variant).template('functions').toJSON().Resources[fnId(fn, variant)] as Json);

describe('Kafka event source mappings', () => {
  it('wires each trigger of the pipeline contract, and nothing else', () => {
    const wiring = mappings()
      .map((m) => `${targetOf(m)} <- ${(m.Topics as string[]).join()}`)
      .sort();
    expect(wiring).toEqual(
      [
        `${fnId('process')} <- ${TOPICS.ticks}`,
        `${fnId('signal')} <- ${TOPICS.indicators}`,
        `${fnId('notify')} <- ${TOPICS.signals}`,
        `${fnId('aggregate')} <- ${TOPICS.ticks}`,
        `${fnId('aggregate')} <- ${TOPICS.signals}`,
        `${fnId('aggregate')} <- ${TOPICS.events}`,
      ].sort(),
    );
  });

  it('starts every mapping at TRIM_HORIZON with its own consumer group', () => {
    const groups = mappings().map((m) => {
      expect(m.StartingPosition).toBe('TRIM_HORIZON');
      return (m.AmazonManagedKafkaEventSourceConfig as Json).ConsumerGroupId;
    });
    expect(new Set(groups).size).toBe(6);
    expect(groups).toEqual(expect.arrayContaining(['market-dev.process', 'market-dev.aggregate.ticks']));
  });

  it('retries a bounded number of times, splits failing batches and honours partial batch responses', () => {
    for (const m of mappings()) {
      expect(m.MaximumRetryAttempts).toBe(KAFKA_RETRY_ATTEMPTS);
      expect(m.BisectBatchOnFunctionError).toBe(true);
      expect(m.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    }
  });

  it('sets a batch size and a batching window on every mapping; none where it only adds latency', () => {
    // Signal and notify see few, bursty records: any MSK window (whole seconds) would add a second per hop.
    const unbatched = new Set([fnId('signal'), fnId('notify')]);
    for (const m of mappings()) {
      expect(m.BatchSize).toEqual(expect.any(Number));
      if (unbatched.has(targetOf(m))) expect(m.MaximumBatchingWindowInSeconds ?? 0).toBe(0);
      else expect(m.MaximumBatchingWindowInSeconds).toBeGreaterThanOrEqual(1);
    }
    const process = mappings().find((m) => targetOf(m) === fnId('process'));
    expect(process).toMatchObject({ BatchSize: 500, MaximumBatchingWindowInSeconds: 1 });
  });

  it("sends batches it gives up on to the consuming function's own encrypted queue", () => {
    const t = dev().template('functions');
    const queues = new Map(resourcesOfType(t, 'AWS::SQS::Queue'));
    for (const m of mappings()) {
      const destination = ((m.DestinationConfig as Json).OnFailure as Json).Destination as { 'Fn::GetAtt': [string, string] };
      const queueId = destination['Fn::GetAtt'][0];
      expect(queues.has(queueId)).toBe(true);
      const owner = (Object.entries({ process: 'process', signal: 'signal', notify: 'notify', aggregate: 'aggregate' }) as [FunctionName, string][]).find(([fn]) => targetOf(m) === fnId(fn));
      expect(queueId.startsWith(`${owner?.[1]}failedbatches`)).toBe(true);
    }
  });

  it('runs every mapping in provisioned mode, sharing one poller group', () => {
    const configs = mappings().map((m) => m.ProvisionedPollerConfig as Json);
    for (const c of configs) expect(c).toEqual({ MinimumPollers: 1, MaximumPollers: 2, PollerGroupName: 'market-dev-pollers' });
  });

  it('uses self-managed event sources with the SCRAM secret for an external cluster', () => {
    const external = mappings('external');
    expect(external).toHaveLength(6);
    for (const m of external) {
      expect((m.SelfManagedEventSource as { Endpoints: { KafkaBootstrapServers: string[] } }).Endpoints.KafkaBootstrapServers).toEqual([
        'seed-0.redpanda.example.com:9092',
        'seed-1.redpanda.example.com:9092',
      ]);
      expect(m.SourceAccessConfigurations).toEqual([{ Type: 'SASL_SCRAM_512_AUTH', URI: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redpanda-scram-AbCdEf' }]);
      expect(m.StartingPosition).toBe('TRIM_HORIZON');
    }
  });

  it('tells producers where Kafka is and how to authenticate', () => {
    const env = (variant: 'dev' | 'external') => (fnProps('ingest', variant).Environment as { Variables: Json }).Variables;
    expect(env('dev').KAFKA_AUTH).toBe('iam');
    expect(env('dev').KAFKA_BROKERS).toEqual({ 'Fn::ImportValue': expect.stringContaining('bootstrapbrokers') });
    expect(env('external')).toMatchObject({ KAFKA_AUTH: 'scram', KAFKA_BROKERS: 'seed-0.redpanda.example.com:9092,seed-1.redpanda.example.com:9092', KAFKA_SECRET_ARN: expect.stringContaining(':secret:redpanda-scram') });
  });

  it('attaches the secrets extension to external-Kafka producers only, for reading SCRAM credentials', () => {
    const layered = (variant: 'dev' | 'external') =>
      (['ingest', 'process', 'signal', 'notify', 'aggregate', 'api'] as const).filter((fn) => JSON.stringify(fnProps(fn, variant).Layers ?? []).includes('ParamsandsecretslayerMap'));
    expect(layered('external')).toEqual(['ingest', 'process', 'signal']);
    expect(layered('dev')).toEqual([]);
  });

  it('creates the topics at deploy time with the configured partitions', () => {
    const resource = resourcesOfType(synth({ kafkaPartitions: '8' }).template('stream'), 'Custom::KafkaTopics').map(([, r]) => props(r));
    expect(resource).toHaveLength(1);
    const topics = JSON.parse(resource[0]?.Topics as string) as { name: string; partitions: number }[];
    expect(topics.map((t) => t.name).sort()).toEqual(Object.values(TOPICS).sort());
    expect(new Set(topics.map((t) => t.partitions))).toEqual(new Set([8]));
  });
});

describe('SQLite on EFS', () => {
  it('gives aggregate, and only aggregate, reserved concurrency of exactly 1', () => {
    const reserved = resourcesOfType(dev().template('functions'), 'AWS::Lambda::Function')
      .filter(([, r]) => props(r).ReservedConcurrentExecutions !== undefined)
      .map(([id, r]) => [id, props(r).ReservedConcurrentExecutions]);
    expect(reserved).toEqual([[fnId('aggregate'), 1]]);
  });

  it('roots the access point in its own directory as POSIX 1000:1000', () => {
    dev().template('storage').hasResourceProperties('AWS::EFS::AccessPoint', {
      PosixUser: { Uid: '1000', Gid: '1000' },
      RootDirectory: { Path: '/market-data', CreationInfo: { OwnerUid: '1000', OwnerGid: '1000', Permissions: '750' } },
    });
  });

  it('mounts the access point at /mnt/data in aggregate and api, and in no other function', () => {
    const mounted = resourcesOfType(dev().template('functions'), 'AWS::Lambda::Function')
      .filter(([, r]) => props(r).FileSystemConfigs !== undefined)
      .map(([id, r]) => {
        const [config] = props(r).FileSystemConfigs as { LocalMountPath: string; Arn: unknown }[];
        expect(config?.LocalMountPath).toBe(DATA_MOUNT_PATH);
        expect(JSON.stringify(config?.Arn)).toMatch(/access-point\/.*sqliteaccesspoint/);
        return id;
      })
      .sort();
    expect(mounted).toEqual([fnId('aggregate'), fnId('api')].sort());
  });

  it('tells both readers and the writer where the database file is', () => {
    expect((fnProps('aggregate').Environment as { Variables: Json }).Variables.SQLITE_PATH).toBe(SQLITE_PATH);
    expect((fnProps('api').Environment as { Variables: Json }).Variables.SQLITE_PATH).toBe('/mnt/data/market.db');
  });

  it('lets NFS in only from the functions that mount it', () => {
    const s = dev();
    const sgId = (fn: FunctionName) => logicalIdOf(s.stacks.functions.functions[fn].securityGroup, s.stacks.functions);
    const nfsPeers = resourcesOfType(s.template('functions'), 'AWS::EC2::SecurityGroupIngress')
      .map(([, r]) => props(r))
      .filter((p) => p.FromPort === 2049)
      .map((p) => (p.SourceSecurityGroupId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0])
      .sort();
    expect(nfsPeers).toEqual([sgId('aggregate'), sgId('api')].sort());
  });
});

describe('network placement', () => {
  it('puts every StageFunction in the private subnets with its own security group', () => {
    const s = dev();
    const stageFunctions = s.app.node.findAll().filter((c): c is StageFunction => c instanceof StageFunction);
    expect(stageFunctions).toHaveLength(7);
    for (const fn of stageFunctions) {
      const stack = Stack.of(fn);
      const resource = Template.fromStack(stack).toJSON().Resources[logicalIdOf(fn, stack)] as Json;
      const vpc = props(resource).VpcConfig as { SubnetIds: unknown[]; SecurityGroupIds: unknown[] };
      expect(JSON.stringify(vpc.SubnetIds)).toMatch(/vpcprivateSubnet1.*vpcprivateSubnet2/);
      expect(vpc.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [logicalIdOf(fn.securityGroup, stack), 'GroupId'] }]);
    }
  });

  it('runs outside the VPC only the CDK framework functions that answer CloudFormation', () => {
    const s = dev();
    const outside = [...s.allTemplates()].flatMap(([stack, t]) =>
      resourcesOfType(t, 'AWS::Lambda::Function')
        .filter(([, r]) => props(r).VpcConfig === undefined)
        .map(([id]) => `${stack}/${id}`),
    );
    expect(outside.map((o) => o.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(
      ['market-dev-network/CustomVpcRestrictDefaultSGCustomResourceProviderHandler', 'market-dev-stream/AWS679f53fac002430cb0da5b7982bd2287', 'market-dev-stream/topicsproviderframeworkonEvent'].sort(),
    );
  });

  it('spreads private subnets over two availability zones without a NAT by default', () => {
    const t = dev().template('network');
    t.resourceCountIs('AWS::EC2::Subnet', 2);
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.resourceCountIs('AWS::EC2::InternetGateway', 0);
    const azs = resourcesOfType(t, 'AWS::EC2::Subnet').map(([, r]) => JSON.stringify(props(r).AvailabilityZone));
    expect(new Set(azs).size).toBe(2);
  });

  it('adds NAT gateways and egress subnets when nat=true', () => {
    const t = synth('prod').template('network');
    t.resourceCountIs('AWS::EC2::NatGateway', 2);
    t.resourceCountIs('AWS::EC2::Subnet', 4);
  });

  it('reaches SNS, SQS, Lambda and STS through private interface endpoints', () => {
    const endpoints = resourcesOfType(dev().template('network'), 'AWS::EC2::VPCEndpoint').map(([, r]) => props(r));
    expect(endpoints).toHaveLength(Object.keys(INTERFACE_ENDPOINTS).length);
    const services = endpoints.map((e) => {
      expect(e).toMatchObject({ VpcEndpointType: 'Interface', PrivateDnsEnabled: true });
      return JSON.stringify(e.ServiceName).match(/\.(sns|sqs|lambda|sts)"/)?.[1];
    });
    expect(services.sort()).toEqual(['lambda', 'sns', 'sqs', 'sts']);
  });

  it('admits Valkey traffic only from the functions granted the cache', () => {
    const peers = resourcesOfType(dev().template('functions'), 'AWS::EC2::SecurityGroupIngress')
      .map(([, r]) => props(r))
      .filter((p) => p.FromPort === 6379)
      .map((p) => {
        expect(p.ToPort).toBe(6380);
        return (p.SourceSecurityGroupId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0].replace(/securitygroup.*/, '');
      })
      .sort();
    expect(peers).toEqual(['api', 'notify', 'process', 'signal']);
  });

  it('admits Kafka clients on the SASL/IAM port only from producers (and the cluster itself for the pollers)', () => {
    const fromFunctions = resourcesOfType(dev().template('functions'), 'AWS::EC2::SecurityGroupIngress')
      .map(([, r]) => props(r))
      .filter((p) => p.FromPort === 9098)
      .map((p) => (p.SourceSecurityGroupId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0].replace(/securitygroup.*/, ''))
      .sort();
    expect(fromFunctions).toEqual(['ingest', 'process', 'signal']);
    dev().template('stream').hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 9098,
      ToPort: 9098,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^kafkasecuritygroup'), 'GroupId'] },
    });
  });
});
