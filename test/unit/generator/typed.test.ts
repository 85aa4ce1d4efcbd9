import { describe, expect, it } from '@jest/globals';
import { TypedRecordGenerator, TypedShareMeter } from '../../../shared/generator/typed';
import { universeOfSize } from '../../../shared/generator/universe';

describe('typed record share', () => {
  it.each([
    [0.1, 100_000],
    [0.25, 99_999],
    [0.5, 1000],
  ])('share %f: typed / (typed + price) equals the share over %i price records', (share, prices) => {
    const meter = new TypedShareMeter(share);
    let typed = 0;
    for (let i = 0; i < prices; i++) typed += meter.afterPriceRecord();
    // share F of all output means F/(1-F) typed records per price record.
    expect(typed).toBe(Math.floor((prices * share) / (1 - share) + 1e-6));
  });

  it('refuses shares outside [0, 1)', () => {
    expect(() => new TypedShareMeter(1)).toThrow(/typed share must be in \[0, 1\)/);
    expect(() => new TypedShareMeter(-0.1)).toThrow();
  });
});

describe('typed record contents', () => {
  const symbols = universeOfSize(3);

  it('order prices sit on their side of the market, within a few tenths of a percent', () => {
    const g = new TypedRecordGenerator(1, symbols);
    const price = 100;
    for (let i = 0; i < 2000; i++) {
      const r = g.next(1_700_000_000_000 + i, () => price);
      if (r.data_type !== 'order_book') continue;
      if (r.order_type === 'buy') expect(r.price).toBeLessThanOrEqual(price);
      else expect(r.price).toBeGreaterThanOrEqual(price);
      expect(Math.abs(r.price - price) / price).toBeLessThan(0.01);
      expect(Number.isInteger(r.quantity) && r.quantity >= 1).toBe(true);
    }
  });

  it('news sentiment leans with the move since the previous story', () => {
    const g = new TypedRecordGenerator(2, symbols);
    let price = 100;
    const scores: number[] = [];
    for (let i = 0; i < 4000; i++) {
      price *= 1.01; // a steady rally
      const r = g.next(i * 1000, () => price);
      if (r.data_type === 'news_sentiment') scores.push(r.sentiment_score);
    }
    const avg = scores.reduce((a, b) => a + b, 0) / scores.length;
    expect(avg).toBeGreaterThan(0.3);
    expect(scores.every((s) => s >= -1 && s <= 1)).toBe(true);
  });

  it('market data follows price × shares outstanding and price / EPS', () => {
    const g = new TypedRecordGenerator(3, symbols);
    for (let i = 0; i < 500; i++) {
      const r = g.next(i, () => 200);
      if (r.data_type !== 'market_data') continue;
      const profile = symbols.find((p) => p.symbol === r.stock_symbol);
      expect(profile).toBeDefined();
      expect(r.market_cap).toBe(Math.round(200 * (profile?.sharesOutstanding ?? 0)));
      expect(r.pe_ratio).toBeCloseTo(200 / (profile?.eps ?? 1), 2);
    }
  });

  it('timestamps are epoch seconds, as in the seed format', () => {
    const r = new TypedRecordGenerator(4, symbols).next(1_700_000_000_500, () => 10);
    expect(r.timestamp).toBe(1_700_000_000.5);
  });
});
