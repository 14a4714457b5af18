"""The command line of ``tools/benchmarks/quality.py``.

    python tools/benchmarks/quality.py run configs/benchmarks/quality/fashion-mnist_cpu.py
    python tools/benchmarks/quality.py run PROTOCOL --entries simclr --seeds 0
    python tools/benchmarks/quality.py try CONFIG --seed 0 --label NAME \\
        --cfg-options model.head.temperature=0.5   # recipe search
    python tools/benchmarks/quality.py probe PROTOCOL   # the linear probe of
                                                   # runs recorded without
    python tools/benchmarks/quality.py report      # every generated README
                                                   # block, the charts and
                                                   # the metafiles' results

``_child`` (one run in a subprocess of its own) is internal and stays out
of ``--help``.
"""
import argparse
import json
import os.path as osp

from .protocol import default_protocols
from .readme import (CHART_DIR, README, SEARCH_README, SEPP_README, report,
                     write_figures, write_search)
from .records import RESULTS, RESULTS_DIR, SEARCH_RESULTS
from .runs import run_child
from .schedule import run_protocol, run_trial

DEFAULT_PROTOCOL = 'configs/benchmarks/quality/fashion-mnist_cpu.py'
DESCRIPTION = ('Representation quality: one fixed protocol for every method '
               'and its base.')


def _add_run(sub) -> None:
    run = sub.add_parser('run', help='run the missing runs of a protocol')
    run.add_argument('protocol')
    run.add_argument('--entries', nargs='+',
                     help='only these entries (or references)')
    run.add_argument('--seeds', nargs='+', type=int)
    run.add_argument('--no-references', action='store_true')
    run.add_argument('--results', default=RESULTS)
    run.add_argument('--work-root', default='work_dirs/quality')


def _add_try(sub) -> None:
    from mmengine.config import DictAction
    trial = sub.add_parser('try', help='one recipe-search run')
    trial.add_argument('config')
    trial.add_argument('--protocol',
                       default=DEFAULT_PROTOCOL)
    trial.add_argument('--seed', type=int, default=0)
    trial.add_argument('--label', required=True)
    trial.add_argument('--cfg-options', nargs='+', action=DictAction,
                       default={})
    trial.add_argument('--results', default=SEARCH_RESULTS)
    trial.add_argument('--work-root', default='work_dirs/quality')


def _add_probe(sub) -> None:
    probe = sub.add_parser(
        'probe', help="the linear probe (and feature spread) of a "
        "protocol's runs recorded without them, from their final checkpoints",
        description="Fit the protocol's linear probe on the frozen features "
        'of each current run that has no linear top-1 or no feature spread '
        "(0: a collapsed encoder) yet, from the run's "
        'final checkpoint in the work dir (runs whose checkpoint is not '
        'there are named and skipped); each result goes to '
        'quality_probe.jsonl beside the results file, and the tables show '
        'it after `report`.')
    probe.add_argument('protocol')
    probe.add_argument('--entries', nargs='+')
    probe.add_argument('--seeds', nargs='+', type=int)
    probe.add_argument('--results', default=RESULTS)
    probe.add_argument('--work-root', default='work_dirs/quality')


def _add_report(sub) -> None:
    rep = sub.add_parser(
        'report', help='regenerate every generated README block (quality '
        'tables, recipe search, benchmark figures: step time, InterCLR '
        'memory, the Measured table, the transfer chain, the detection '
        "smoke, SePP's mining), the charts and the metafiles' measured "
        'results',
        description='Regenerate every generated README block from the '
        'results files in tools/benchmarks/results/: the quality tables '
        'and charts (quality.jsonl) and the metafiles\' measured results; '
        'the recipe search (recipe_search.jsonl, configs/bsim/README.md); '
        'the benchmark figures of README.md: step-time and '
        'interclr-memory (their JSON files), measured (measured.jsonl, '
        'written by tools/benchmarks/timed.py), chain-results '
        '(transfer_chain.jsonl), detection-smoke (detection_smoke.jsonl); '
        'and sepp-mining (sepp_mining.jsonl, configs/sepp/README.md).')
    rep.add_argument('protocols', nargs='*')
    rep.add_argument('--results', default=RESULTS)
    rep.add_argument('--readme', default=README)
    rep.add_argument('--chart-dir', default=CHART_DIR)
    rep.add_argument('--search-results', default=SEARCH_RESULTS)
    rep.add_argument('--search-readme', default=SEARCH_README,
                     help="where the recipe search's table goes ('' skips)")
    rep.add_argument('--figures-results', default=RESULTS_DIR,
                     help='the folder of the benchmark figures\' results '
                     'files')
    rep.add_argument('--figures-readme', default=README,
                     help="where their blocks go, but for SePP's mining "
                     "('' skips)")
    rep.add_argument('--sepp-readme', default=SEPP_README,
                     help="where SePP's mining block goes ('' skips)")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    # metavar lists the public commands only, and _child has no help line
    # (argparse 3.11 would print help=SUPPRESS as '==SUPPRESS=='): the
    # internal _child (one run in a subprocess of its own) stays callable
    # but out of --help.
    sub = parser.add_subparsers(dest='command', required=True,
                                metavar='{run,try,probe,report}')
    _add_run(sub)
    _add_try(sub)
    _add_probe(sub)
    _add_report(sub)
    child = sub.add_parser('_child')
    child.add_argument('protocol')
    child.add_argument('--entry', required=True)
    child.add_argument('--seed', type=int, required=True)
    child.add_argument('--work-root', required=True)
    return parser.parse_args(argv)


def main(argv=None):
    from bsim_plugin.apis import silence_pkg_resources_warning
    silence_pkg_resources_warning()
    args = parse_args(argv)
    if args.command == '_child':
        run_child(args.protocol, args.entry, args.seed, args.work_root)
    elif args.command == 'run':
        run_protocol(args.protocol, args.entries, args.seeds, args.results,
                     args.work_root, not args.no_references)
    elif args.command == 'probe':
        from .protocol import load_protocol
        from .probe import probe_runs
        try:
            proto = load_protocol(args.protocol)
            probe_runs(proto, args.results, args.work_root, args.entries,
                       args.seeds)
        except ValueError as exc:
            raise SystemExit(f'error: {exc}') from None
    elif args.command == 'try':
        record = run_trial(args.config, dict(args.cfg_options), args.seed,
                           args.label, args.protocol, args.results,
                           args.work_root)
        print(json.dumps(record, indent=1))
    else:
        print(report(args.protocols or default_protocols(), args.results,
                     args.readme, args.chart_dir))
        if args.search_readme and osp.isfile(args.search_results):
            write_search(args.search_readme, args.search_results)
        write_figures(args.figures_readme, args.figures_results,
                      {'sepp-mining': args.sepp_readme})
