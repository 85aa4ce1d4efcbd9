import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../shared/config';
import { connectionSettings, loadKafkaConfig, parseScramSecret } from '../../../shared/adapters/kafka';

describe('loadKafkaConfig', () => {
  it('defaults to the local plaintext broker', () => {
    expect(loadKafkaConfig({})).toEqual({ brokers: ['localhost:9092'], auth: 'none', clientId: 'stock-stream', region: 'us-east-1' });
  });

  it('reads brokers, auth, client id, region and the SCRAM secret', () => {
    const cfg = loadKafkaConfig({ KAFKA_BROKERS: 'b-1.x:9098, b-2.x:9098', KAFKA_AUTH: 'SCRAM', AWS_REGION: 'eu-west-1', KAFKA_SECRET_ARN: 'arn:s', AWS_LAMBDA_FUNCTION_NAME: 'process' });
    expect(cfg).toEqual({ brokers: ['b-1.x:9098', 'b-2.x:9098'], auth: 'scram', clientId: 'process', region: 'eu-west-1', secretArn: 'arn:s' });
  });

  it.each([
    [{ KAFKA_AUTH: 'kerberos' }, 'KAFKA_AUTH must be one of none, iam, scram, got "kerberos"'],
    [{ KAFKA_BROKERS: 'localhost' }, 'KAFKA_BROKERS has an invalid entry "localhost" (expected host:port)'],
    [{ KAFKA_BROKERS: ' , ' }, 'KAFKA_BROKERS must list at least one host:port'],
    [{ KAFKA_AUTH: 'scram' }, 'KAFKA_AUTH=scram needs KAFKA_SECRET_ARN'],
  ])('rejects %j naming the variable', (env, message) => {
    expect(() => loadKafkaConfig(env)).toThrow(ConfigError);
    expect(() => loadKafkaConfig(env)).toThrow(message);
  });
});

describe('connectionSettings', () => {
  it('uses plaintext without SASL locally', () => {
    const s = connectionSettings(loadKafkaConfig({}), {}, '-producer');
    expect(s).toEqual({ clientId: 'stock-stream-producer', bootstrapBrokers: ['localhost:9092'] });
  });

  it('uses TLS and SASL OAUTHBEARER with a fresh MSK IAM token per authentication', async () => {
    const regions: string[] = [];
    let n = 0;
    const s = connectionSettings(loadKafkaConfig({ KAFKA_AUTH: 'iam', AWS_REGION: 'ap-south-1' }), {
      generateIamToken: async (region) => {
        regions.push(region);
        return `token-${++n}`;
      },
    });
    expect(s.tls).toEqual({});
    expect(s.sasl?.mechanism).toBe('OAUTHBEARER');
    const provider = s.sasl?.token as () => Promise<string>;
    expect(await provider()).toBe('token-1');
    expect(await provider()).toBe('token-2');
    expect(regions).toEqual(['ap-south-1', 'ap-south-1']);
  });

  it('uses TLS and SCRAM-SHA-512 with credentials read once from the secret', async () => {
    let reads = 0;
    const s = connectionSettings(loadKafkaConfig({ KAFKA_AUTH: 'scram', KAFKA_SECRET_ARN: 'arn:aws:secretsmanager:x:1:secret:AmazonMSK_a' }), {
      resolveScramSecret: async (arn) => {
        reads++;
        expect(arn).toBe('arn:aws:secretsmanager:x:1:secret:AmazonMSK_a');
        return { username: 'u', password: 'p' };
      },
    });
    expect(s.tls).toEqual({});
    expect(s.sasl?.mechanism).toBe('SCRAM-SHA-512');
    expect(await (s.sasl?.username as () => Promise<string>)()).toBe('u');
    expect(await (s.sasl?.password as () => Promise<string>)()).toBe('p');
    expect(reads).toBe(1);
  });

  it('prefers SCRAM credentials given in the environment', async () => {
    const s = connectionSettings(loadKafkaConfig({ KAFKA_AUTH: 'scram', KAFKA_SASL_USERNAME: 'env-u', KAFKA_SASL_PASSWORD: 'env-p' }));
    expect(await (s.sasl?.username as () => Promise<string>)()).toBe('env-u');
  });
});

describe('parseScramSecret', () => {
  it('reads the MSK secret format', () => {
    expect(parseScramSecret('arn', '{"username":"alice","password":"s3cret"}')).toEqual({ username: 'alice', password: 's3cret' });
  });
  it.each([['not json', 'is not JSON'], ['{"username":"a"}', 'must hold non-empty "username" and "password"'], [undefined, 'is not JSON']])('rejects %j', (secret, message) => {
    expect(() => parseScramSecret('arn', secret)).toThrow(message);
  });
});
