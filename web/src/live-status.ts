import { formatClock } from './format';
import type { LiveStatus } from './poll';

/**
 * The header's connection indicator: one place that knows whether the API answers.
 * Only state changes are announced (role=status); the ticking clock is hidden from
 * screen readers so it does not chatter every two seconds.
 */
export function createLiveStatus(el: HTMLElement): LiveStatus {
  const dot = document.createElement('span');
  dot.className = 'live-dot';
  dot.setAttribute('aria-hidden', 'true');
  const stateText = document.createElement('span');
  stateText.setAttribute('role', 'status');
  const clock = document.createElement('span');
  clock.className = 'live-clock';
  clock.setAttribute('aria-hidden', 'true');
  el.replaceChildren(dot, stateText, clock);
  let state: 'connecting' | 'live' | 'offline' | undefined;
  let lastOk = 0;
  const set = (next: 'connecting' | 'live' | 'offline'): void => {
    if (next !== state) {
      state = next;
      el.dataset.state = next;
      stateText.textContent = next === 'live' ? 'Live' : next === 'offline' ? 'Offline, retrying' : 'Connecting…';
    }
    clock.textContent = lastOk ? formatClock(lastOk) : '';
  };
  set('connecting');
  return {
    ok() {
      lastOk = Date.now();
      set('live');
    },
    failed() {
      // One failed poll after a healthy stretch is noise; say offline once it lasts.
      if (state !== 'live' || Date.now() - lastOk > 6000) set('offline');
    },
  };
}
