"""Run a command; print its wall time and the peak memory of its process tree.

`/usr/bin/time -v` reports the largest single process, but chapter 5 trains in
worker processes beside the notebook's kernel: what the machine needs is their
sum. Every half second this sums, over the command and all its descendants
(read from /proc, so Linux only), the resident set (RSS, which counts the pages
of shared libraries such as libmxnet.so once per process) and the proportional
set (PSS, which splits shared pages between the processes using them); it also
keeps the largest RSS of any one process (a training worker's, say).

    python bench/tree_memory.py python -m pytest --nbval \\
        book/05_does_attention_help.ipynb \\
        --nbval-sanitize-with book/nbval-sanitize.cfg
"""

import os
import subprocess
import sys
import time


def children_of():
    """Map each process id to the ids of its children."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/stat') as f:
                    # the parent id is the 2nd field after the command's ')'
                    parent = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # the process ended meanwhile
            children.setdefault(parent, []).append(int(entry))
    return children


def tree_memory(pid):
    """Summed RSS and PSS of `pid` and its descendants, and the largest RSS.

    In bytes: `(rss, pss, largest_rss)`.
    """
    rss = pss = largest = 0
    children, stack = children_of(), [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f'/proc/{p}/smaps_rollup') as f:
                for line in f:
                    if line.startswith('Rss:'):
                        process_rss = int(line.split()[1]) * 1024
                        rss += process_rss
                        largest = max(largest, process_rss)
                    elif line.startswith('Pss:'):
                        pss += int(line.split()[1]) * 1024
        except OSError:
            pass
        stack.extend(children.get(p, []))
    return rss, pss, largest


def main():
    """Run the command given, sampling its tree's memory until it ends."""
    if len(sys.argv) < 2:
        sys.exit(f'usage: {sys.argv[0]} COMMAND [ARGUMENT ...]')
    start = time.time()
    process = subprocess.Popen(sys.argv[1:])
    peak_rss = peak_pss = peak_one = 0
    while process.poll() is None:
        rss, pss, largest = tree_memory(process.pid)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        peak_one = max(peak_one, largest)
        time.sleep(0.5)
    print(
        f'exit {process.returncode}, wall {time.time() - start:.0f} s, '
        f'peak of the process tree: {peak_rss / 2**20:,.0f} MiB RSS, '
        f'{peak_pss / 2**20:,.0f} MiB PSS; largest process: '
        f'{peak_one / 2**20:,.0f} MiB RSS',
        file=sys.stderr,
    )
    sys.exit(process.returncode)


if __name__ == '__main__':
    main()
