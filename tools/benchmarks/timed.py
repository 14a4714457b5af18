"""Time a command and record it for the README's "Measured" table.

    python tools/benchmarks/timed.py NAME [--note TEXT] [--results FILE] \\
        -- COMMAND [ARG ...]

Runs COMMAND (its output streams as usual), measures its wall time and
appends ``{name, command, wall_s, rc, date, device, note}`` as one JSON
line to the results file (default
``tools/benchmarks/results/measured.jsonl``); exits with COMMAND's status.
``python tools/benchmarks/quality.py report`` then writes the table: one
row per NAME, its latest record. The README's rows are ``demo``,
``setup-cold``, ``setup-warm``, ``tests`` and ``ci``, e.g.

    python tools/benchmarks/timed.py tests --note "fresh clone" \\
        -- bash tools/run_tests.sh

A command that cannot be started, or is interrupted (Ctrl-C), is not
recorded.
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import re
import shlex
import subprocess
import sys
import time
from typing import List, Optional

# Standard library only: the cold set-up is timed before any environment
# exists. The README's rows, in order (quality_tool.figures_runs'
# MEASURED_NAMES, which renders them).
KNOWN = ('demo', 'setup-cold', 'setup-warm', 'tests', 'ci')
RESULTS = osp.join(osp.dirname(osp.abspath(__file__)), 'results',
                   'measured.jsonl')
NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')


def machine() -> str:
    """CPU cores and model, memory, GPUs and Python, without torch."""
    cpu = platform.processor() or platform.machine()
    memory = ''
    try:
        with open('/proc/cpuinfo') as f:
            names = [ln.split(':', 1)[1].strip() for ln in f
                     if ln.startswith('model name')]
        cpu = names[0] if names else cpu
        with open('/proc/meminfo') as f:
            memory = f'{int(f.readline().split()[1]) / 2**20:.0f} GiB, '
    except (OSError, ValueError, IndexError):
        pass
    try:
        gpus = subprocess.run(
            ['nvidia-smi', '--query-gpu=name', '--format=csv,noheader'],
            capture_output=True, text=True, timeout=30).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        gpus = []
    gpus = [g.strip() for g in gpus if g.strip()]
    return (f'CPU: {os.cpu_count()} cores ({cpu}), {memory}'
            f'{"GPU: " + ", ".join(gpus) if gpus else "no GPU"}, '
            f'Python {platform.python_version()}')


def append_record(path: str, record: dict) -> None:
    """One JSON line, as quality_tool.records writes them."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'a') as f:
        f.write(json.dumps(record, sort_keys=True) + '\n')
        f.flush()
        os.fsync(f.fileno())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='timed.py',
        usage='%(prog)s NAME [--note TEXT] [--results FILE] -- COMMAND '
        '[ARG ...]',
        description=__doc__.split('\n')[0] + ' Known names (the README\'s '
        f'rows, in order): {", ".join(KNOWN)}; another name gets a row of '
        'its own after them.')
    parser.add_argument('name', help='the row: letters, digits, ".", "_", '
                        '"-"')
    parser.add_argument('--note', default='', metavar='TEXT',
                        help="the row's notes (other figures, conditions)")
    parser.add_argument('--results', default=RESULTS, metavar='FILE',
                        help='the JSON-lines file to append to (default '
                        'tools/benchmarks/results/measured.jsonl)')
    return parser


def parse_args(argv: Optional[List[str]] = None):
    """``(options, command)``: the command is everything after ``--``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if '--' not in argv:
        if any(a in ('-h', '--help') for a in argv):
            parser.parse_args(['--help'])
        parser.error('give the command to time after "--", e.g. '
                     'timed.py tests -- bash tools/run_tests.sh')
    at = argv.index('--')
    args, command = parser.parse_args(argv[:at]), argv[at + 1:]
    if not command:
        parser.error('no command after "--"')
    if not NAME.match(args.name):
        parser.error(f'NAME {args.name!r}: use letters, digits, ".", "_" '
                     'and "-" (e.g. tests, setup-cold)')
    if osp.isdir(args.results):
        parser.error(f'--results {args.results} is a folder; give the '
                     f'file, e.g. {osp.join(args.results, "measured.jsonl")}')
    return args, command


def timed_record(name: str, command: List[str], wall_s: float, rc: int,
                 note: str = '', date: Optional[str] = None,
                 device: Optional[str] = None) -> dict:
    """The results record of one timed command."""
    return dict(name=name, command=shlex.join(command),
                wall_s=round(wall_s, 1), rc=rc,
                date=date or datetime.date.today().isoformat(),
                device=device or machine(), note=note or None)


def main(argv: Optional[List[str]] = None) -> int:
    args, command = parse_args(argv)
    start = time.perf_counter()
    try:
        rc = subprocess.run(command).returncode
    except FileNotFoundError:
        sys.exit(f'error: command not found: {command[0]}')
    except PermissionError:
        sys.exit(f'error: cannot run {command[0]} (permission denied)')
    except KeyboardInterrupt:
        sys.exit('interrupted: nothing recorded')
    wall = time.perf_counter() - start
    # A command killed by signal N: returncode -N, the shell's 128 + N.
    rc = 128 - rc if rc < 0 else rc
    record = timed_record(args.name, command, wall, rc, args.note)
    try:
        append_record(args.results, record)
    except OSError as e:
        sys.exit(f'error: cannot append to {args.results}: {e}')
    status = f'exit status {rc}' if rc else 'ok'
    print(f'[timed] {args.name}: {wall:.1f} s ({status}); recorded in '
          f'{args.results}', file=sys.stderr)
    return rc


if __name__ == '__main__':
    sys.exit(main())
