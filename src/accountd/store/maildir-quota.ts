/**
 * @module Quota usage of a Maildir (and its Maildir++ sub-folders): messages
 * in `cur/` and `new/`, bytes from the `,S=` size in the file name when there
 * is one, else from the file's size.
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes and messages found in a Maildir tree. */
export interface MaildirUsage {
  bytes: number;
  messages: number;
}

const SIZE_IN_NAME = /,S=(\d+)/;

async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

async function addMessages(dir: string, usage: MaildirUsage): Promise<void> {
  for (const entry of await entries(dir)) {
    // Dot files are not messages; symbolic links are not followed.
    if (entry.name.startsWith('.') || !entry.isFile()) continue;
    const m = SIZE_IN_NAME.exec(entry.name);
    let size: number;
    if (m !== null) size = Number(m[1]);
    else {
      try {
        size = (await lstat(join(dir, entry.name))).size;
      } catch {
        continue; // moved or deleted by the mail store while we counted
      }
    }
    usage.bytes += size;
    usage.messages += 1;
  }
}

/**
 * Counts the messages and bytes of the Maildir at `root`: its `cur/` and
 * `new/`, and those of every Maildir++ folder `root/.NAME/`. A missing Maildir
 * counts as empty. Throws the `fs` error when a directory cannot be read.
 */
export async function scanMaildir(root: string): Promise<MaildirUsage> {
  const usage: MaildirUsage = { bytes: 0, messages: 0 };
  const folders = [root];
  for (const entry of await entries(root)) {
    if (entry.isDirectory() && entry.name.startsWith('.') && entry.name !== '..') {
      if (entry.name !== '.') folders.push(join(root, entry.name));
    }
  }
  for (const folder of folders) {
    await addMessages(join(folder, 'cur'), usage);
    await addMessages(join(folder, 'new'), usage);
  }
  return usage;
}
