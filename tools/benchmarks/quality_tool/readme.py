"""The one writer of every generated README block.

- ``quality-table`` (README.md): each protocol's table and chart, from
  ``quality.jsonl``; the metafiles' measured results beside it;
- ``recipe-search`` (configs/bsim/README.md): the recipe-search runs, from
  ``recipe_search.jsonl``;
- ``step-time`` and ``interclr-memory`` (README.md): the other benchmarks'
  figures, from their JSON files (:mod:`.figures`).

Every block is a pure function of its results files, so writing it twice
gives the same bytes.
"""
import os.path as osp
from typing import Dict, List, Optional

from .chart import render_chart
from .figures import render_interclr_memory, render_step_time
from .protocol import ROOT, entry_digests, load_protocol
from .records import RESULTS, RESULTS_DIR, SEARCH_RESULTS, read_records
from .tables import render_search, render_table, summarise
from .writeback import begin_marker, end_marker, fill_block, fill_metafiles

README = osp.join(ROOT, 'README.md')
SEARCH_README = osp.join(ROOT, 'configs', 'bsim', 'README.md')
CHART_DIR = RESULTS_DIR
TABLE_BEGIN, TABLE_END = begin_marker('quality-table'), end_marker(
    'quality-table')
SEARCH_BEGIN, SEARCH_END = begin_marker('recipe-search'), end_marker(
    'recipe-search')
FIGURE_RENDERERS = {
    'step-time': render_step_time,
    'interclr-memory': render_interclr_memory,
}


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
        blocks.append(render_table(proto, rows) + f'\n\n![{proto["title"]}]'
                      f'({osp.relpath(chart, readme_dir)})')
    return '\n\n'.join(blocks)


def report(protocol_paths: List[str], results: str = RESULTS,
           readme: Optional[str] = README,
           chart_dir: str = CHART_DIR,
           check_digests: bool = True,
           metafiles: bool = True) -> str:
    """Regenerate the README block (tables + charts) from the results, and
    the measured results of the metafiles; returns the block's text."""
    readme_dir = osp.dirname(osp.abspath(readme)) if readme else ROOT
    text = quality_block(protocol_paths, read_records(results), readme_dir,
                         chart_dir, check_digests, metafiles)
    if readme:
        fill_block(readme, TABLE_BEGIN, TABLE_END, text)
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


def write_figures(readme: str = README,
                  results_dir: str = RESULTS_DIR) -> None:
    for name, text in figure_blocks(results_dir).items():
        fill_block(readme, begin_marker(name), end_marker(name), text)
