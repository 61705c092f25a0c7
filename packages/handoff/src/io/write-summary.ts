/** What a dataset writer wrote. */
export interface WriteSummary {
  /** The file written. */
  path: string;
  /** Rows written. */
  rows: number;
  /** Size of the file in bytes. */
  bytes: number;
  /** Hex SHA-256 of the file. */
  sha256: string;
}
