import type { LiveStatus } from '../poll';

/** A page: built into a container on navigation, destroyed (pollers stopped) on leaving. */
export interface View {
  destroy(): void;
}
export interface ViewContext {
  root: HTMLElement;
  status: LiveStatus;
  /** Query parameters of the hash route (#/symbol/AAPL?interval=5m). */
  params: URLSearchParams;
  setTitle(title: string): void;
}
