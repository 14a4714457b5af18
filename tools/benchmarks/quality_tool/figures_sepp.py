"""SePP's pair-mining figures (configs/sepp/README.md), rendered from
``sepp_mining.jsonl``: one record per mining run, appended by
``tools/sepp/mine_pairs.py --record`` (:func:`mining_record`).
"""
import os.path as osp
from typing import Optional

from .figures import _row
from .figures_runs import (_unique, measured_on, notes, shared_by,
                           when_cell, when_column)
from .records import read_records

SEPP_FILE = 'sepp_mining.jsonl'
DATASET_NAMES = {'FashionMNIST': 'Fashion-MNIST', 'CIFAR10': 'CIFAR-10',
                 'ImageNet': 'ImageNet-1k'}


def mining_record(meta: dict, date: str, device: str, max_mib: int,
                  backend_used: str, note: Optional[str] = None,
                  checkpoint_note: Optional[str] = None) -> dict:
    """The results record of one mining run, from the metadata
    ``mine_pairs.py`` stores in its pairs file (options, data set and
    report), the date, the machine, the torch search's block size, the
    search that ran (what ``auto`` chose), an optional note and an optional
    readable name of the checkpoint (the table shows it instead of the
    path)."""
    dataset = meta['dataset']
    names = dict(checkpoint_note=checkpoint_note) if checkpoint_note else {}
    return dict(
        date=date, device=device, note=note or None,
        config=meta['config'], checkpoint=meta['checkpoint'], **names,
        checkpoint_sha256=meta['checkpoint_sha256'], source=meta['source'],
        k=meta['k'], threshold=meta['threshold'], mutual=meta['mutual'],
        backend=meta['backend'], backend_used=backend_used, max_mib=max_mib,
        dataset=dict(length=dataset['length'], type=dataset['type'],
                     fingerprint=dataset['fingerprint']),
        report=dict(meta['report']))


def percent(share: Optional[float]) -> str:
    """A share as a percentage with one decimal (``100 %`` for all)."""
    if share is None:
        return '-'
    text = f'{100 * share:.1f}'
    return ('100' if text == '100.0' else text) + ' %'


def _search(record: dict) -> str:
    backend = record.get('backend_used') or record.get('backend')
    if backend is None:
        return 'not recorded'
    if backend == 'torch':
        return f'torch ({record["max_mib"]} MiB blocks)'
    return backend


def _options(record: dict) -> str:
    words = []
    if record.get('threshold') is not None:
        words.append(f'threshold {record["threshold"]:g}')
    if record.get('mutual'):
        words.append('mutual')
    return ', '.join(words) or '-'


def _mining_row(record: dict, extra: list) -> str:
    rep, data = record['report'], record['dataset']
    images = f'{data["length"]:,}' + (f' ({data["label"]})'
                                      if data.get('label') else '')
    return _row(
        images, str(record['k']), _options(record), _search(record),
        f'{rep["pairs"]:,}', percent(rep.get('coverage')),
        percent(rep.get('purity')),
        f'{rep["embed_s"]:.0f} / {rep["search_s"]:.0f} / '
        f'{rep["total_s"]:.0f} s', f'{rep["peak_rss_mib"]:,} MiB', *extra)


def _checkpoint(record: dict) -> str:
    return record.get('checkpoint_note') or f'`{record["checkpoint"]}`'


def render_sepp_mining(results_dir: str) -> str:
    """Every mining run in file order, one table per data set and
    checkpoint: options, search, pairs, coverage, purity, times and peak
    memory; the runs' notes after each table."""
    records = read_records(osp.join(results_dir, SEPP_FILE))
    if not records:
        return 'Not run yet.'
    groups = _unique((r['dataset'].get('type'), _checkpoint(r))
                     for r in records)
    blocks = []
    for data_type, checkpoint in groups:
        rows = [r for r in records if (r['dataset'].get('type'),
                                       _checkpoint(r)) == (data_type,
                                                           checkpoint)]
        device, date = shared_by(rows)
        per_row = not (device and date)
        head = ['images', 'k', 'options', 'search', 'pairs',
                'images covered', 'purity (same label)',
                'embed / search / total', 'peak RSS'] + (
                    [when_column(device)] if per_row else [])
        where = measured_on(device, date)
        lines = [
            f'The miner on {DATASET_NAMES.get(data_type, data_type)} with '
            f'{checkpoint}' + (f', measured {where}' if where else '') + ':',
            '', _row(*head), _row(*['---'] * len(head))]
        lines += [_mining_row(r, [when_cell(r, device)] if per_row else [])
                  for r in rows]
        blocks.append('\n'.join(lines + notes(rows)))
    return '\n\n'.join(blocks)

