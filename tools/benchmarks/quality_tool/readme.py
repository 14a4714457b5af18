"""The one writer of every generated README block.

- ``quality-table`` (README.md): each protocol's table and chart (and,
  with a kNN curve, one curve chart per base: :mod:`.curve_chart`), from
  ``quality.jsonl``; the metafiles' measured results beside it;
- ``quality-headline`` and ``quality-changes`` (README.md): every method
  against its base, and each entry before and after a change of its recipe
  (:mod:`.changes`), from the same records; ``quality-rows`` in the README
  of each method folder (``METHOD_READMES``): its entries' lines of both;
- ``recipe-search`` (configs/bsim/README.md): the recipe-search runs, from
  ``recipe_search.jsonl``;
- the benchmark figures, each from its own results file
  (``FIGURE_RENDERERS``, written into README.md unless ``FIGURE_HOMES``
  names another README):

  - ``step-time`` and ``interclr-memory`` (README.md): step time and
    InterCLR's memory work, from their JSON files (:mod:`.figures`);
  - ``measured`` (README.md, :mod:`.figures_runs`): the wall times of the
    demo, set-up, tests and CI, from ``measured.jsonl`` (appended by
    ``tools/benchmarks/timed.py``);
  - ``chain-results`` (README.md, :mod:`.figures_runs`): the CPU transfer
    chain, from ``transfer_chain.jsonl`` (``extract_backbone_weights.py
    --record``, ``linear_probe.py --record``);
  - ``detection-smoke`` (README.md): pre-trained against random
    initialisation, from ``detection_smoke.jsonl``
    (``detection_smoke.py``; :mod:`.figures_detection`);
  - ``sepp-mining`` (configs/sepp/README.md): SePP's pair mining, from
    ``sepp_mining.jsonl`` (``mine_pairs.py --record``;
    :mod:`.figures_sepp`).

Every block is a pure function of its results files, so writing it twice
gives the same bytes.
"""
import os.path as osp
from typing import Dict, List, Optional

from .changes import render_changes, render_headline, render_method_rows
from .chart import render_chart
from .curve_chart import render_curve_charts
from .figures import render_interclr_memory, render_step_time
from .figures_detection import render_detection_smoke
from .figures_runs import render_measured, render_transfer_chain
from .figures_sepp import render_sepp_mining
from .protocol import ROOT, entry_digests, load_protocol
from .records import (RESULTS, RESULTS_DIR, SEARCH_RESULTS, quality_records,
                      read_records)
from .tables import render_search, render_table, summarise
from .writeback import (begin_marker, end_marker, fill_block, fill_metafiles,
                        generated_blocks)

README = osp.join(ROOT, 'README.md')
SEARCH_README = osp.join(ROOT, 'configs', 'bsim', 'README.md')
SEPP_README = osp.join(ROOT, 'configs', 'sepp', 'README.md')
CHART_DIR = RESULTS_DIR
TABLE_BEGIN, TABLE_END = begin_marker('quality-table'), end_marker(
    'quality-table')
SEARCH_BEGIN, SEARCH_END = begin_marker('recipe-search'), end_marker(
    'recipe-search')
FIGURE_RENDERERS = {
    'step-time': render_step_time,
    'interclr-memory': render_interclr_memory,
    'measured': render_measured,
    'chain-results': render_transfer_chain,
    'detection-smoke': render_detection_smoke,
    'sepp-mining': render_sepp_mining,
}
# The short views of the quality records (README.md), beside the table.
QUALITY_VIEWS = {
    'quality-headline': render_headline,
    'quality-changes': render_changes,
}
# Each method folder's README, with a ``quality-rows`` block: its entries
# against their bases, before -> after.
METHOD_READMES = {
    osp.join(ROOT, 'configs', name, 'README.md'): f'configs/{name}/'
    for name in ('bsim', 'interclr', 'sane', 'sepp')
}
# The README of each figure block that is not in README.md.
FIGURE_HOMES = {'sepp-mining': SEPP_README}


def quality_block(protocol_paths: List[str], records: List[dict],
                  readme_dir: str = ROOT, chart_dir: str = CHART_DIR,
                  check_digests: bool = True, metafiles: bool = True,
                  charts: bool = True) -> str:
    """The quality tables (and chart links) of some protocols; with
    ``charts`` and ``metafiles`` also writes the charts and the metafiles'
    measured results."""
    blocks = []
    for path in protocol_paths:
        proto = load_protocol(path)
        digests = entry_digests(proto) if check_digests else None
        rows = summarise(records, proto, digests)
        if metafiles:
            fill_metafiles(proto, rows)
        if not rows:
            blocks.append(f'**{proto["title"]}**: no results recorded yet.')
            continue
        chart = osp.join(chart_dir, f'quality_{proto["name"]}.png')
        if charts:
            render_chart(proto, rows, chart)
        curves = render_curve_charts(proto, rows, chart_dir, write=charts)
        blocks.append(render_table(proto, rows) + f'\n\n![{proto["title"]}]'
                      f'({osp.relpath(chart, readme_dir)})' + ''.join(
                          f'\n![kNN curves: {base}]'
                          f'({osp.relpath(path, readme_dir)})'
                          for base, path in curves.items()))
    return '\n\n'.join(blocks)


def _checked(protocol_paths: List[str], check_digests: bool) -> list:
    """``(protocol, digests)`` of each path (digests ``None`` unchecked)."""
    protos = [load_protocol(path) for path in protocol_paths]
    return [(p, entry_digests(p) if check_digests else None) for p in protos]


def quality_views(protocol_paths: List[str], records: List[dict],
                  check_digests: bool = True) -> Dict[tuple, str]:
    """The text of each view block by ``(README path, block name)``: the
    ``QUALITY_VIEWS`` of README.md and the ``quality-rows`` block of each
    method README; one paragraph per protocol."""
    checked = _checked(protocol_paths, check_digests)
    texts = {(README, name): '\n\n'.join(render(records, proto, digests)
                                          for proto, digests in checked)
             for name, render in QUALITY_VIEWS.items()}
    for readme, folder in METHOD_READMES.items():
        parts = [render_method_rows(records, proto, digests, folder)
                 for proto, digests in checked]
        texts[readme, 'quality-rows'] = '\n\n'.join(
            p for p in parts if p) or 'No run of these methods recorded yet.'
    return texts


def report(protocol_paths: List[str], results: str = RESULTS,
           readme: Optional[str] = README,
           chart_dir: str = CHART_DIR,
           check_digests: bool = True,
           metafiles: bool = True) -> str:
    """Regenerate the quality table (and charts) from the results, the
    views of the same records (README.md's, and the method READMEs' when
    ``readme`` is README.md) and the measured results of the metafiles;
    returns the table block's text."""
    readme_dir = osp.dirname(osp.abspath(readme)) if readme else ROOT
    records = quality_records(results)
    text = quality_block(protocol_paths, records, readme_dir, chart_dir,
                         check_digests, metafiles)
    if not readme:
        return text
    fill_block(readme, TABLE_BEGIN, TABLE_END, text)
    home = osp.abspath(readme) == README
    for (path, name), view in quality_views(protocol_paths, records,
                                            check_digests).items():
        target = readme if path == README else path if home else None
        if target and name in generated_blocks(target):
            fill_block(target, begin_marker(name), end_marker(name), view)
    return text


def search_block(results: str = SEARCH_RESULTS) -> str:
    return render_search(read_records(results))


def write_search(readme: str = SEARCH_README,
                 results: str = SEARCH_RESULTS) -> None:
    fill_block(readme, SEARCH_BEGIN, SEARCH_END, search_block(results))


def figure_blocks(results_dir: str = RESULTS_DIR) -> Dict[str, str]:
    """The text of each benchmark-figure block, by its marker name."""
    return {name: render(results_dir)
            for name, render in FIGURE_RENDERERS.items()}


def figure_homes(readme: str = README,
                 homes: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The README each figure block is written into: its entry in
    ``homes``, else ``readme``. ``homes`` defaults to ``FIGURE_HOMES`` when
    ``readme`` is the repository's README.md and to none otherwise (so a
    README given elsewhere receives every block)."""
    if homes is None:
        same = osp.abspath(readme or '') == osp.abspath(README)
        homes = FIGURE_HOMES if same else {}
    return {name: homes.get(name, readme) for name in FIGURE_RENDERERS}


def write_figures(readme: str = README, results_dir: str = RESULTS_DIR,
                  homes: Optional[Dict[str, str]] = None) -> None:
    """Each figure block into its README (:func:`figure_homes`; a home of
    '' skips that block)."""
    where = figure_homes(readme, homes)
    for name, text in figure_blocks(results_dir).items():
        if where[name]:
            fill_block(where[name], begin_marker(name), end_marker(name),
                       text)
