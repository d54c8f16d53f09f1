/**
 * The resident memory of a process and all its descendants, read straight from /proc (Linux), the
 * independent reference for grym-perf's `pid` memory source. Descendants are found through every
 * process's parent id (`/proc/N/stat`), not through `/proc/PID/task/T/children` as grym-perf does,
 * so the two do not share a mistake.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessRss {
  pid: number;
  command: string;
  rssBytes: number;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so split after its last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined; // exited meanwhile
  }
}

/** `pid` and its descendants, each with its VmRSS; processes that exit meanwhile are left out. */
export function processTreeRss(pid: number): ProcessRss[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentOf(Number(entry));
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const tree: ProcessRss[] = [];
  for (const member of [pid, ...descendants(pid, children)]) {
    try {
      const status = readFileSync(`/proc/${member}/status`, 'utf8');
      const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
      const command = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?';
      if (Number.isFinite(rssKb)) tree.push({ pid: member, command, rssBytes: rssKb * 1024 });
    } catch {
      // exited meanwhile
    }
  }
  return tree;
}

function descendants(pid: number, children: ReadonlyMap<number, number[]>): number[] {
  return (children.get(pid) ?? []).flatMap((child) => [child, ...descendants(child, children)]);
}

export const totalRssBytes = (tree: readonly ProcessRss[]) => tree.reduce((sum, member) => sum + member.rssBytes, 0);
