/** What an export wrote. */
export interface ExportSummary {
  /** The file written. */
  path: string;
  /** Number of items written. */
  records: number;
  /** Size of the file in bytes. */
  bytes: number;
}
