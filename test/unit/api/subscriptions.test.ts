import { describe, expect, it } from '@jest/globals';
import { loadApiConfig } from '../../../shared/api/config';
import { buildFilterPolicy, checkEndpoint, checkFilterPolicy, subscriptionIdOf } from '../../../shared/api/subscriptions';

const cloud = { allowInsecureWebhooks: false, accountId: '111122223333', region: 'eu-west-1', partition: 'aws' };
const local = { ...cloud, allowInsecureWebhooks: true };

describe('checkEndpoint: email', () => {
  it.each(['alerts@example.com', 'first.last+tag@sub.example.co.uk'])('accepts %s', (e) => {
    expect(checkEndpoint('email', e, cloud).ok).toBe(true);
  });
  it.each(['plain', 'a@b', '@example.com', 'a b@example.com', 'a@-example.com', `${'a'.repeat(65)}@example.com`, 'a@example.com\r\nBcc: x@y.z'])('refuses %j', (e) => {
    expect(checkEndpoint('email', e, cloud)).toEqual({ ok: false, message: expect.stringContaining('email address') });
  });
  it('counts plus-addresses and case variants against one mailbox', () => {
    const a = checkEndpoint('email', 'Alerts+1@Example.com', cloud);
    const b = checkEndpoint('email', 'alerts+2@example.COM', cloud);
    expect(a.ok && b.ok && a.capKey === b.capKey).toBe(true);
  });
});

describe('checkEndpoint: sms', () => {
  it.each(['+14155550100', '+447911123456', '+12'])('accepts %s', (e) => expect(checkEndpoint('sms', e, cloud).ok).toBe(true));
  it.each(['14155550100', '+0123456789', '+1415555010012345', '+1 415 555 0100', '+1-415-555-0100', '+'])('refuses %j', (e) => {
    expect(checkEndpoint('sms', e, cloud)).toEqual({ ok: false, message: expect.stringContaining('E.164') });
  });
});

describe('checkEndpoint: https', () => {
  it('accepts a public https URL', () => {
    expect(checkEndpoint('https', 'https://hooks.example.com/signals?x=1', cloud)).toEqual({
      ok: true,
      snsProtocol: 'https',
      endpoint: 'https://hooks.example.com/signals?x=1',
      capKey: 'https://hooks.example.com/signals',
    });
  });

  it.each([
    ['http://hooks.example.com/x', /must use https/],
    ['ftp://hooks.example.com/x', /must use https/],
    ['https://user:pass@hooks.example.com/x', /credentials/],
    ['https://hooks.example.com/x#frag', /fragment/],
    ['https://localhost/x', /not a public host/],
    ['https://api.localhost/x', /not a public host/],
    ['https://metadata.internal/x', /not a public host/],
    ['https://intranet/x', /fully qualified/],
    ['https://127.0.0.1/x', /private, loopback/],
    ['https://2130706433/x', /private, loopback/],
    ['https://0x7f.1/x', /private, loopback/],
    ['https://10.1.2.3/x', /private/],
    ['https://172.20.0.1/x', /private/],
    ['https://192.168.1.1/x', /private/],
    ['https://169.254.169.254/latest/meta-data', /private/],
    ['https://100.64.0.1/x', /private/],
    ['https://0.0.0.0/x', /private/],
    ['https://[::1]/x', /private/],
    ['https://[fd00::1]/x', /private/],
    ['https://[fe80::1]/x', /private/],
    ['https://[::ffff:127.0.0.1]/x', /private/],
    ['not a url', /absolute https URL/],
  ])('refuses %s in the cloud', (url, message) => {
    expect(checkEndpoint('https', url, cloud)).toEqual({ ok: false, message: expect.stringMatching(message) });
  });

  it('allows http://localhost only when ALLOW_INSECURE_WEBHOOKS is set', () => {
    expect(checkEndpoint('https', 'http://localhost:9999/hook', local)).toMatchObject({ ok: true, snsProtocol: 'http' });
    expect(checkEndpoint('https', 'http://localhost:9999/hook', cloud).ok).toBe(false);
    expect(checkEndpoint('https', 'http://user:pw@localhost:9999/hook', local).ok).toBe(false);
  });

  it('accepts public IP literals', () => {
    expect(checkEndpoint('https', 'https://8.8.8.8/x', cloud).ok).toBe(true);
  });
});

describe('checkEndpoint: sqs', () => {
  it('accepts a standard queue of this account and region', () => {
    expect(checkEndpoint('sqs', 'arn:aws:sqs:eu-west-1:111122223333:alerts', cloud)).toMatchObject({ ok: true, snsProtocol: 'sqs' });
  });
  it.each([
    ['arn:aws:sqs:eu-west-1:999999999999:alerts', /account 111122223333 and region eu-west-1/],
    ['arn:aws:sqs:us-east-1:111122223333:alerts', /account 111122223333 and region eu-west-1/],
    ['arn:aws-cn:sqs:eu-west-1:111122223333:alerts', /account/],
    ['arn:aws:sqs:eu-west-1:111122223333:alerts.fifo', /FIFO/],
    ['arn:aws:sns:eu-west-1:111122223333:alerts', /SQS queue ARN/],
    ['https://sqs.eu-west-1.amazonaws.com/111122223333/alerts', /SQS queue ARN/],
    ['arn:aws:sqs:eu-west-1:111122223333:a/../b', /SQS queue ARN/],
  ])('refuses %s', (arn, message) => {
    expect(checkEndpoint('sqs', arn, cloud)).toEqual({ ok: false, message: expect.stringMatching(message) });
  });

  it('takes the account and region from the topic ARN when AWS_ACCOUNT_ID is not set', () => {
    const cfg = loadApiConfig({ SIGNAL_TOPIC_ARN: 'arn:aws:sns:ap-south-1:444455556666:signals' });
    expect(cfg.subscriptions).toMatchObject({ accountId: '444455556666', region: 'ap-south-1', partition: 'aws', maxPerEndpoint: 5, allowInsecureWebhooks: false });
  });
});

describe('filter policy', () => {
  it('filters on the symbol and side message attributes, sorted and de-duplicated', () => {
    expect(buildFilterPolicy({ symbols: ['MSFT', 'AAPL'], sides: ['SELL'] })).toEqual({ symbol: ['AAPL', 'MSFT'], side: ['SELL'] });
    expect(buildFilterPolicy({})).toBeUndefined();
  });

  it('allows up to 150 combinations (symbols x sides) and refuses more', () => {
    const symbols = (n: number) => Array.from({ length: n }, (_, i) => `S${i}`);
    expect(checkFilterPolicy(buildFilterPolicy({ symbols: symbols(75), sides: ['BUY', 'SELL'] }))).toEqual([]);
    expect(checkFilterPolicy(buildFilterPolicy({ symbols: symbols(150) }))).toEqual([]);
    expect(checkFilterPolicy(buildFilterPolicy({ symbols: symbols(76), sides: ['BUY', 'SELL'] }))).toEqual([
      { field: 'symbols', message: expect.stringContaining('152 filter combinations') },
    ]);
  });

  it('refuses more than 5 keys', () => {
    const policy = { a: ['1'], b: ['1'], c: ['1'], d: ['1'], e: ['1'], f: ['1'] };
    expect(checkFilterPolicy(policy)).toEqual([{ field: '(root)', message: expect.stringContaining('at most 5 keys') }]);
  });
});

describe('subscription ids', () => {
  const topic = 'arn:aws:sns:us-east-1:123456789012:market-signals';
  it('are the ARN suffix on our topic only', () => {
    expect(subscriptionIdOf(topic, `${topic}:bd32e560-6f95-4ea2-9ce7-eeacad4cdba0`)).toBe('bd32e560-6f95-4ea2-9ce7-eeacad4cdba0');
    expect(subscriptionIdOf(topic, 'arn:aws:sns:us-east-1:123456789012:other:bd32e560')).toBeUndefined();
    expect(subscriptionIdOf(topic, `${topic}:../x`)).toBeUndefined();
  });
});
