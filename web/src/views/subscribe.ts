import { ApiError, parseSymbols, paths, postJson, getJson, type FieldError } from '../api';
import { h, setText } from '../dom';
import type { View, ViewContext } from './view';

/**
 * The alert subscription form. Validation is the API's: its field errors are shown
 * next to the fields they name, so the rules live in one place (the server).
 */

export type Protocol = 'email' | 'sms' | 'https';
const PROTOCOLS: { value: Protocol; label: string; endpointLabel: string; type: string; hint: string; autocomplete: string }[] = [
  { value: 'email', label: 'Email', endpointLabel: 'Email address', type: 'email', hint: 'For example trader@example.com. You will get a confirmation email first.', autocomplete: 'email' },
  { value: 'sms', label: 'SMS', endpointLabel: 'Phone number', type: 'tel', hint: 'International E.164 format, for example +14155550123.', autocomplete: 'tel' },
  { value: 'https', label: 'HTTPS webhook', endpointLabel: 'Webhook URL', type: 'url', hint: 'An https:// URL that accepts POST requests; it must confirm the subscription.', autocomplete: 'url' },
];

export interface SubscriptionRequest { protocol: Protocol; endpoint: string; symbols?: string[]; sides?: ('BUY' | 'SELL')[] }

/** The request body from the form's raw values. Symbols: commas or spaces, any case; empty means all. Pure. */
export function buildSubscription(raw: { protocol: string; endpoint: string; symbols: string; sides: string[] }): SubscriptionRequest {
  const symbols = raw.symbols
    .split(/[\s,;]+/)
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  const body: SubscriptionRequest = { protocol: raw.protocol as Protocol, endpoint: raw.endpoint.trim() };
  if (symbols.length) body.symbols = [...new Set(symbols)];
  body.sides = raw.sides.filter((s): s is 'BUY' | 'SELL' => s === 'BUY' || s === 'SELL');
  return body;
}

/** Which form control a server field path belongs to: "symbols[2]" and "symbols.2" are the symbols box. Pure. */
export function fieldControl(field: string): 'protocol' | 'endpoint' | 'symbols' | 'sides' | null {
  const head = field.replace(/^(body|\$)[.[]?/, '').split(/[.[\]/]/)[0] ?? '';
  return head === 'protocol' || head === 'endpoint' || head === 'symbols' || head === 'sides' ? head : null;
}

export function subscribeView(ctx: ViewContext): View {
  ctx.setTitle('Alerts');
  const errors = new Map<string, HTMLElement>();
  const errorEl = (name: string): HTMLElement => {
    const el = h('p', { class: 'field-error', id: `${name}-error`, hidden: true });
    errors.set(name, el);
    return el;
  };

  const protocolInputs = PROTOCOLS.map((p, i) =>
    h('input', { type: 'radio', name: 'protocol', id: `protocol-${p.value}`, value: p.value, checked: i === 0, onchange: () => syncEndpoint() }),
  );
  const endpointLabel = h('label', { for: 'endpoint' });
  const endpointHint = h('p', { class: 'hint', id: 'endpoint-hint' });
  const endpoint = h('input', { id: 'endpoint', name: 'endpoint', 'aria-describedby': 'endpoint-hint endpoint-error', spellcheck: 'false', autocapitalize: 'off' });
  const symbols = h('input', {
    id: 'symbols',
    name: 'symbols',
    placeholder: 'AAPL, MSFT',
    'aria-describedby': 'symbols-hint symbols-error',
    autocapitalize: 'characters',
    spellcheck: 'false',
    autocomplete: 'off',
    list: 'symbol-options',
  });
  const symbolOptions = h('datalist', { id: 'symbol-options' });
  const sideInputs = (['BUY', 'SELL'] as const).map((side) => h('input', { type: 'checkbox', name: 'sides', id: `side-${side}`, value: side, checked: true }));
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Subscribe');
  const summary = h('div', { class: 'form-summary', id: 'form-summary', role: 'alert', hidden: true, tabindex: '-1' });
  const status = h('div', { class: 'form-status', id: 'form-status', role: 'status', 'aria-live': 'polite' });

  const form = h(
    'form',
    { class: 'card subscribe-form', novalidate: true, 'aria-labelledby': 'subscribe-title' },
    h('h1', { id: 'subscribe-title' }, 'Signal alerts'),
    h('p', { class: 'lead' }, 'Get a message when a BUY or SELL signal fires. Leave symbols empty to hear about every symbol.'),
    summary,
    h(
      'fieldset',
      { class: 'field', 'aria-describedby': 'protocol-error' },
      h('legend', {}, 'Deliver by'),
      h('div', { class: 'choices' }, ...PROTOCOLS.map((p, i) => h('label', { class: 'choice', for: `protocol-${p.value}` }, protocolInputs[i]!, ` ${p.label}`))),
      errorEl('protocol'),
    ),
    h('div', { class: 'field' }, endpointLabel, endpoint, endpointHint, errorEl('endpoint')),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'symbols' }, 'Symbols ', h('span', { class: 'optional' }, '(optional)')),
      symbols,
      symbolOptions,
      h('p', { class: 'hint', id: 'symbols-hint' }, 'Separate with commas or spaces.'),
      errorEl('symbols'),
    ),
    h(
      'fieldset',
      { class: 'field', 'aria-describedby': 'sides-error' },
      h('legend', {}, 'Sides'),
      h('div', { class: 'choices' }, ...sideInputs.map((input) => h('label', { class: 'choice', for: input.id }, input, ` ${input.value}`))),
      errorEl('sides'),
    ),
    h('div', { class: 'actions' }, submit, status),
  );
  ctx.root.append(h('div', { class: 'subscribe-page' }, form));

  function protocol(): (typeof PROTOCOLS)[number] {
    const value = protocolInputs.find((i) => i.checked)?.value;
    return PROTOCOLS.find((p) => p.value === value) ?? PROTOCOLS[0]!;
  }
  function syncEndpoint(): void {
    const p = protocol();
    setText(endpointLabel, p.endpointLabel);
    setText(endpointHint, p.hint);
    endpoint.type = p.type;
    endpoint.autocomplete = p.autocomplete as AutoFill;
    endpoint.placeholder = p.value === 'email' ? 'you@example.com' : p.value === 'sms' ? '+14155550123' : 'https://example.com/hooks/signals';
  }
  syncEndpoint();

  const controls: Record<string, HTMLElement> = { protocol: protocolInputs[0]!, endpoint, symbols, sides: sideInputs[0]! };

  function clearErrors(): void {
    for (const el of errors.values()) {
      el.hidden = true;
      el.textContent = '';
    }
    for (const el of [endpoint, symbols, ...protocolInputs, ...sideInputs]) el.removeAttribute('aria-invalid');
    summary.hidden = true;
    summary.replaceChildren();
  }

  function showErrors(err: ApiError): void {
    const general: string[] = [];
    const byControl = new Map<string, string[]>();
    for (const f of err.fields as FieldError[]) {
      const c = fieldControl(f.field);
      if (c) byControl.set(c, [...(byControl.get(c) ?? []), f.message]);
      else general.push(f.field ? `${f.field}: ${f.message}` : f.message);
    }
    for (const [name, messages] of byControl) {
      const el = errors.get(name)!;
      el.textContent = messages.join(' ');
      el.hidden = false;
      const targets = name === 'protocol' ? protocolInputs : name === 'sides' ? sideInputs : [controls[name]!];
      for (const t of targets) t.setAttribute('aria-invalid', 'true');
    }
    const count = byControl.size;
    summary.replaceChildren(
      h('strong', {}, count ? `Please fix ${count === 1 ? 'the highlighted field' : `${count} highlighted fields`}.` : 'The subscription was not created.'),
      ...[...(count ? [] : [err.message]), ...general].map((m) => h('p', {}, m)),
    );
    summary.hidden = false;
    const first = ['protocol', 'endpoint', 'symbols', 'sides'].find((n) => byControl.has(n));
    if (first === 'protocol') protocolInputs.find((i) => i.checked)?.focus();
    else if (first === 'sides') sideInputs[0]!.focus();
    else if (first) controls[first]!.focus();
    else summary.focus();
  }

  let busy = false;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (busy) return;
    void (async () => {
      busy = true;
      submit.disabled = true;
      clearErrors();
      setText(status, 'Creating subscription…');
      const body = buildSubscription({
        protocol: protocol().value,
        endpoint: endpoint.value,
        symbols: symbols.value,
        sides: sideInputs.filter((i) => i.checked).map((i) => i.value),
      });
      try {
        const res = await postJson(paths.subscriptions(), body);
        const r = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as Record<string, unknown>;
        const pending = typeof r.status === 'string' ? r.status.startsWith('pending') : body.protocol !== 'sms';
        status.dataset.state = 'ok';
        setText(
          status,
          `Subscribed ${body.endpoint} to ${body.symbols?.join(', ') ?? 'all symbols'} (${body.sides?.join(' and ') || 'no sides'})` +
            (typeof r.id === 'string' ? `, id ${r.id}` : '') +
            (pending ? '. Confirm it from the message SNS sends first.' : '.'),
        );
        endpoint.value = '';
      } catch (err) {
        status.dataset.state = 'error';
        if (err instanceof ApiError) {
          setText(status, '');
          showErrors(err);
        } else {
          setText(status, 'Could not reach the API. Check your connection and try again.');
        }
      } finally {
        busy = false;
        submit.disabled = false;
      }
    })();
  });

  // Known symbols make a helpful datalist; failing to load them changes nothing else.
  getJson(paths.symbols(), parseSymbols)
    .then((r) => {
      if (r.modified) symbolOptions.replaceChildren(...r.data.map((s) => h('option', { value: s.symbol })));
    })
    .catch(() => undefined);

  return { destroy() {} };
}
