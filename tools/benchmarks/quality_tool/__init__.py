"""Representation quality: one fixed protocol for every method and its base,
and the writer of every generated README block.

Run from the command line as ``tools/benchmarks/quality.py`` (see
:mod:`.cli`). One module per job:

- :mod:`.protocol`: reading and checking a protocol; config digests;
- :mod:`.records`: the results store and each record's provenance;
- :mod:`.runs`: one run in this process (pre-train + kNN, or a reference);
- :mod:`.linear`: the linear probe beside the kNN (a protocol's
  ``linear``), and probes of runs recorded without one;
- :mod:`.probe`: probing recorded runs from their final checkpoints;
- :mod:`.schedule`: the missing runs of a protocol, each in a subprocess;
- :mod:`.pairs`: SePP entries' pairs, mined first when missing;
- :mod:`.tables`: statistics over the records and their Markdown tables;
- :mod:`.changes`: every method against its base, and before -> after;
- :mod:`.chart`: the chart of a protocol;
- :mod:`.curve_chart`: the kNN-curve charts of a protocol, one per base;
- :mod:`.figures`: the step-time and InterCLR memory README figures;
- :mod:`.figures_runs`: the timed commands' and the transfer chain's;
- :mod:`.figures_sepp`: SePP's pair mining (and its records);
- :mod:`.figures_detection`: the detection smoke;
- :mod:`.writeback`: README blocks and metafiles;
- :mod:`.readme`: which block is rendered from which results, and where;
- :mod:`.cli`: the command line.
"""
from .chart import render_chart
from .cli import main, parse_args
from .figures import render_interclr_memory, render_step_time
from .figures_detection import fill_smoke, render_detection_smoke
from .figures_runs import render_measured, render_transfer_chain
from .figures_sepp import mining_record, render_sepp_mining
from .linear import check_linear, linear_scores, with_probes
from .protocol import (REFERENCE_LABELS, REFERENCES, ROOT, abs_path,
                       budget_of, build_config, config_digest,
                       default_protocols, entry_digests, find_entry,
                       load_protocol, model_digest, recipe_text)
from .changes import render_changes, render_headline
from .readme import (CHART_DIR, FIGURE_HOMES, FIGURE_RENDERERS,
                     QUALITY_VIEWS, README, SEARCH_BEGIN, SEARCH_END,
                     SEARCH_README, SEPP_README, TABLE_BEGIN, TABLE_END,
                     figure_blocks, figure_homes, quality_block,
                     quality_views, report, search_block, write_figures,
                     write_search)
from .records import (RESULTS, RESULTS_DIR, SEARCH_RESULTS, append_record,
                      expected_key, provenance, quality_records,
                      read_records, record_key)
from .runs import (run_child, run_entry, run_reference, score_model,
                   split_arrays)
from .probe import probe_runs
from .schedule import run_protocol, run_trial, spawn
from .tables import render_search, render_table, summarise
from .writeback import (GENERATOR, MEASURED, begin_marker, end_marker,
                        fill_block, fill_metafile, fill_metafiles,
                        generated_blocks, metafile_results, read_block)

__all__ = [
    'ROOT', 'REFERENCES', 'REFERENCE_LABELS', 'abs_path', 'load_protocol',
    'find_entry', 'default_protocols', 'build_config', 'recipe_text',
    'config_digest', 'model_digest', 'entry_digests', 'budget_of', 'RESULTS',
    'RESULTS_DIR', 'SEARCH_RESULTS', 'read_records', 'append_record',
    'record_key', 'expected_key', 'provenance', 'split_arrays', 'score_model',
    'run_entry', 'run_reference', 'run_child', 'spawn', 'run_protocol',
    'run_trial', 'summarise', 'render_table', 'render_search', 'render_chart',
    'render_step_time', 'render_interclr_memory', 'render_measured',
    'render_transfer_chain', 'render_detection_smoke', 'render_sepp_mining',
    'mining_record', 'fill_smoke', 'GENERATOR', 'MEASURED',
    'begin_marker', 'end_marker', 'generated_blocks', 'read_block',
    'fill_block', 'metafile_results', 'fill_metafile', 'fill_metafiles',
    'render_headline', 'render_changes', 'QUALITY_VIEWS', 'quality_views',
    'README', 'SEARCH_README', 'CHART_DIR', 'TABLE_BEGIN', 'TABLE_END',
    'SEARCH_BEGIN', 'SEARCH_END', 'FIGURE_RENDERERS', 'FIGURE_HOMES',
    'SEPP_README', 'quality_block', 'report', 'search_block', 'write_search',
    'figure_blocks', 'figure_homes', 'write_figures', 'parse_args', 'main',
    'check_linear', 'linear_scores', 'with_probes', 'probe_runs',
    'quality_records'
]
