import { describe, expect, it } from '@jest/globals';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { TOPICS } from '../../shared/config';
import { type TopicAdmin, TopicPlanError, applyTopicResource, parseProperties, planTopics } from '../../infra/custom-resources/create-topics';
import { type TopicSpec, topicSpecs } from '../../infra/topics';

const spec = (name: string, partitions: number): TopicSpec => ({ name: name as TopicSpec['name'], partitions, configs: {} });

/** Records what the resource asked of the cluster; a fake is fine here, the logic under test is pure. */
class RecordingAdmin implements TopicAdmin {
  readonly calls: string[] = [];
  closed = false;
  constructor(private readonly existing: Map<string, number>, private readonly failOn?: string) {}
  async partitionCounts(names: readonly string[]) {
    this.calls.push(`describe ${names.join(',')}`);
    return new Map([...this.existing].filter(([n]) => names.includes(n)));
  }
  async createTopic(s: TopicSpec) {
    if (s.name === this.failOn) throw new Error(`broker refused ${s.name}`);
    this.calls.push(`create ${s.name}/${s.partitions} ${JSON.stringify(s.configs)}`);
  }
  async addPartitions(name: string, total: number) {
    this.calls.push(`grow ${name}->${total}`);
  }
  async close() {
    this.closed = true;
  }
}

const event = (requestType: 'Create' | 'Update' | 'Delete', properties: Record<string, unknown>): CloudFormationCustomResourceEvent =>
  ({
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/market-dev-stream/1',
    RequestId: 'r-1',
    LogicalResourceId: 'topics',
    ResourceType: 'Custom::KafkaTopics',
    ResourceProperties: { ServiceToken: 'x', ...properties },
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: 'kafka-topics', OldResourceProperties: {} }),
  }) as CloudFormationCustomResourceEvent;

const quiet = () => undefined;
const validProperties = (topics: TopicSpec[]) => ({ BootstrapBrokers: 'b-1.example:9098,b-2.example:9098', Auth: 'iam', Topics: JSON.stringify(topics) });

describe('topic specs', () => {
  it('covers every topic the pipeline names, with one partition count', () => {
    const specs = topicSpecs(6);
    expect(specs.map((s) => s.name).sort()).toEqual(Object.values(TOPICS).sort());
    expect(new Set(specs.map((s) => s.partitions))).toEqual(new Set([6]));
  });

  it('compacts the state changelog and only it', () => {
    const compacted = topicSpecs(3).filter((s) => s.configs['cleanup.policy'] === 'compact').map((s) => s.name);
    expect(compacted).toEqual([TOPICS.stateChangelog]);
  });

  it('keeps a retention of 7 days (604800000 ms) on ticks', () => {
    expect(topicSpecs(3).find((s) => s.name === TOPICS.ticks)?.configs['retention.ms']).toBe('604800000');
  });
});

describe('topic plan', () => {
  it('creates missing topics, grows short ones and leaves equal ones alone', () => {
    const plan = planTopics([spec('a', 3), spec('b', 6), spec('c', 3)], new Map([['b', 3], ['c', 3]]));
    expect(plan.create.map((s) => s.name)).toEqual(['a']);
    expect(plan.grow).toEqual([{ name: 'b', from: 3, to: 6 }]);
    expect(plan.unchanged).toEqual(['c']);
  });

  it('refuses to shrink a topic and says what to set instead', () => {
    expect(() => planTopics([spec('a', 3)], new Map([['a', 6]]))).toThrow(TopicPlanError);
    expect(() => planTopics([spec('a', 3)], new Map([['a', 6]]))).toThrow(/a has 6 partitions, 3 requested.*kafkaPartitions/);
  });
});

describe('Custom::KafkaTopics handler', () => {
  it('creates only the missing topics, with their configs, and closes the client', async () => {
    const admin = new RecordingAdmin(new Map([['market.ticks', 3]]));
    const topics = [spec('market.ticks', 3), { ...spec('market.state-changelog', 3), configs: { 'cleanup.policy': 'compact' } }];
    const result = await applyTopicResource(event('Create', validProperties(topics)), () => admin, quiet);
    expect(admin.calls).toEqual(['describe market.ticks,market.state-changelog', 'create market.state-changelog/3 {"cleanup.policy":"compact"}']);
    expect(result).toEqual({ PhysicalResourceId: 'kafka-topics', Data: { Created: 'market.state-changelog', Grown: '', Unchanged: 'market.ticks' } });
    expect(admin.closed).toBe(true);
  });

  it('adds partitions on update when the context asks for more', async () => {
    const admin = new RecordingAdmin(new Map([['market.ticks', 3]]));
    await applyTopicResource(event('Update', validProperties([spec('market.ticks', 6)])), () => admin, quiet);
    expect(admin.calls).toContain('grow market.ticks->6');
  });

  it('leaves the cluster alone on delete', async () => {
    let connected = false;
    const result = await applyTopicResource(event('Delete', validProperties([spec('market.ticks', 3)])), () => {
      connected = true;
      return new RecordingAdmin(new Map());
    }, quiet);
    expect(connected).toBe(false);
    expect(result.PhysicalResourceId).toBe('kafka-topics');
  });

  it('closes the client when the broker refuses a topic', async () => {
    const admin = new RecordingAdmin(new Map(), 'market.ticks');
    await expect(applyTopicResource(event('Create', validProperties([spec('market.ticks', 3)])), () => admin, quiet)).rejects.toThrow('broker refused market.ticks');
    expect(admin.closed).toBe(true);
  });

  it('names the malformed property instead of crashing', () => {
    expect(() => parseProperties({ BootstrapBrokers: 'broker-without-port', Auth: 'iam', Topics: '[]' })).toThrow(/BootstrapBrokers: must be a comma-separated list of host:port/);
    expect(() => parseProperties({ BootstrapBrokers: 'b:9098', Auth: 'kerberos', Topics: '[]' })).toThrow(/Auth:/);
    expect(() => parseProperties({ BootstrapBrokers: 'b:9098', Auth: 'iam', Topics: '[{"name":"t","partitions":0,"configs":{}}]' })).toThrow(/Topics: must be a JSON array/);
  });
});
