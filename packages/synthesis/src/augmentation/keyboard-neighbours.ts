const ROWS = ["1234567890-", "qwertyuiop", "asdfghjkl", "zxcvbnm"];

let table: Map<string, string> | undefined;

/**
 * Keys next to each key of a US QWERTY keyboard (same row left and right; the staggered rows above and
 * below), for letters and digits. Upper-case letters map to upper-case neighbours.
 */
export function keyboardNeighbours(): Map<string, string> {
  if (table) return table;
  table = new Map();
  ROWS.forEach((row, r) => {
    for (let c = 0; c < row.length; c++) {
      const near: string[] = [];
      const add = (rowIndex: number, column: number) => {
        const key = ROWS[rowIndex]?.[column];
        if (key !== undefined) near.push(key);
      };
      add(r, c - 1);
      add(r, c + 1);
      add(r - 1, c);
      add(r - 1, c + 1);
      add(r + 1, c - 1);
      add(r + 1, c);
      const key = row[c] as string;
      const letters = near.filter((n) => /[a-z0-9]/.test(n)).join("");
      table?.set(key, letters);
      if (key !== key.toUpperCase()) table?.set(key.toUpperCase(), letters.toUpperCase());
    }
  });
  return table;
}
