import type { TrajectoryItem } from "@orbiter/types";

/**
 * Collects the items of an append-only JSON Lines file, applying revisions: a line whose `id` repeats an
 * earlier line's id replaces that item where it stood (the last line wins). A sink only ever appends, so this
 * is how a writer updates an item it wrote before — the gateway writes an episode's reward as a revision of
 * the episode's last item once the episode ends.
 */
export class RevisionCollector {
  /** The items, each at the position of its first line, holding its last line. */
  readonly items: TrajectoryItem[];
  readonly #positions = new Map<string, number>();
  /** Lines that replaced an earlier item. */
  revisions = 0;

  constructor(items: TrajectoryItem[] = []) {
    this.items = items;
  }

  /** Adds the item of the next line. */
  add(item: TrajectoryItem): void {
    const at = this.#positions.get(item.id);
    if (at === undefined) {
      this.#positions.set(item.id, this.items.length);
      this.items.push(item);
    } else {
      this.items[at] = item;
      this.revisions++;
    }
  }
}
