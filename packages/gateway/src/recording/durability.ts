import { z } from "zod";

/**
 * When the gateway answers a call, relative to the call's record reaching the file and the disk:
 *
 * - `"written"` (the default): after the record's bytes are written to the file (`write(2)`, grouped: every
 *   call that completed meanwhile goes out in one write). The kernel then holds them, so killing the gateway —
 *   even with SIGKILL — loses no answered call; they reach the disk with an `fdatasync` in the background
 *   within `syncIntervalMs`, so an OS crash or power loss may lose the calls of that last interval.
 * - `"synced"`: after the record is on disk (`fdatasync`, grouped: one covers every call that completed
 *   meanwhile). Nothing answered is lost even to a power loss; a call coming alone waits for a whole disk flush.
 * - `"none"`: at once; records are written and flushed in the background within `syncIntervalMs`, so a crash
 *   of the gateway may lose the calls of that last interval.
 */
export const Durability = z.enum(["written", "synced", "none"]);
/** When the gateway answers a call, relative to its record reaching the file and the disk. */
export type Durability = z.infer<typeof Durability>;
