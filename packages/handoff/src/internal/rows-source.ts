/** Rows given to a writer: an array, any iterable, or an async iterable (streamed, never collected). */
export type RowSource<T> = Iterable<T> | AsyncIterable<T>;

/** Iterates a {@link RowSource} with `for await`. */
export async function* iterateRows<T>(rows: RowSource<T>): AsyncGenerator<T> {
  if (Symbol.asyncIterator in rows) {
    for await (const row of rows as AsyncIterable<T>) yield row;
  } else {
    for (const row of rows as Iterable<T>) yield row;
  }
}
