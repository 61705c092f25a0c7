/** A listener; it may be async, and the emitter waits for it. */
export type Listener<T> = (payload: T) => void | Promise<void>;

/**
 * A minimal typed event emitter whose `emit` awaits every listener in registration order, so that a listener
 * writing a log applies back-pressure and a listener's error reaches the caller.
 */
export class TypedEmitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Array<Listener<never>>>();

  /** Adds a listener and returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const list = this.listeners.get(event) ?? [];
    list.push(listener as Listener<never>);
    this.listeners.set(event, list);
    return () => {
      const current = this.listeners.get(event);
      if (!current) return;
      const index = current.indexOf(listener as Listener<never>);
      if (index >= 0) current.splice(index, 1);
    };
  }

  /** True when at least one listener waits for `event`. */
  has(event: keyof Events): boolean {
    return (this.listeners.get(event)?.length ?? 0) > 0;
  }

  /** Calls the listeners of `event` one after the other, awaiting each. */
  async emit<K extends keyof Events>(event: K, payload: Events[K]): Promise<void> {
    const list = this.listeners.get(event);
    if (!list || list.length === 0) return;
    for (const listener of [...list]) await (listener as Listener<Events[K]>)(payload);
  }
}
