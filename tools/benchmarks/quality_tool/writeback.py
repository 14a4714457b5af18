"""Writing results back into the repository's files: the generated blocks
of the READMEs, and the measured results of mmpretrain-style metafiles.

A generated block stands between two marker lines, ``<!-- NAME:begin
(tools/benchmarks/quality.py report) -->`` and ``<!-- NAME:end -->``;
everything outside them is left as it is.
"""
import json
import os.path as osp
import re
from typing import List

from .protocol import abs_path

GENERATOR = 'tools/benchmarks/quality.py report'
MEASURED = 'measured by this project'


def begin_marker(name: str) -> str:
    return f'<!-- {name}:begin ({GENERATOR}) -->'


def end_marker(name: str) -> str:
    return f'<!-- {name}:end -->'


def generated_blocks(path: str) -> List[str]:
    """The names of the generated blocks a file has, in order."""
    with open(path) as f:
        pattern = re.escape(begin_marker('NAME')).replace('NAME', '([^ :]+)')
        return re.findall(pattern, f.read())


def _split(path: str, content: str, begin: str, end: str) -> tuple:
    if begin not in content or end not in content:
        raise ValueError(f'{path} has no {begin} ... {end} block to fill')
    head, rest = content.split(begin, 1)
    block, tail = rest.split(end, 1)
    return head, block, tail


def read_block(path: str, begin: str, end: str) -> str:
    """What stands between two marker lines of a file."""
    with open(path) as f:
        block = _split(path, f.read(), begin, end)[1]
    # fill_block writes the text between a newline after each marker.
    return block[block.startswith('\n'):len(block) - block.endswith('\n')]


def fill_block(path: str, begin: str, end: str, text: str) -> None:
    """Replace what stands between two marker lines of a file (the file is
    written only when that changes it)."""
    with open(path) as f:
        content = f.read()
    head, _, tail = _split(path, content, begin, end)
    new = f'{head}{begin}\n{text}\n{end}{tail}'
    if new != content:
        with open(path, 'w') as f:
            f.write(new)


def metafile_results(proto: dict, row: dict) -> List[str]:
    """The ``Results:`` item of a metafile model for one protocol row."""
    each = ', '.join(f'{a:.2f}' for a in row['accs'])
    spread = (f', sample std {row["std"]:.2f}' if len(row['accs']) > 1
              else '')
    last = row['last']
    source = (f'{MEASURED}: {proto["title"]} ({proto["path"]}), '
              f'{row["budget"] or str(row["epochs"]) + " epochs"}; '
              f'weighted kNN top-1 (k={proto["knn"]["k"]}, '
              f'T={proto["knn"]["temperature"]}), mean of '
              f'{len(row["accs"])} seed(s) ({each}{spread}); '
              f'{last["device"]}, last run {last["date"]}')
    dataset = proto['dataset']['type']
    dataset = {'FashionMNIST': 'Fashion-MNIST'}.get(dataset, dataset)
    return [
        '      - Task: Image Classification',
        f'        Dataset: {dataset}',
        f'        Source: {json.dumps(source)}',
        '        Metrics:',
        f'          Top 1 Accuracy: {row["mean"]:.2f}',
    ]


def fill_metafile(path: str, config: str, items: List[str]) -> bool:
    """Set the ``Results:`` of the model whose ``Config:`` is ``config`` in
    an mmpretrain-style metafile, keeping every other line as it is. Only
    ``Results: null`` or results this project measured are replaced (a
    paper's numbers stay); returns whether the model was found."""
    with open(path) as f:
        lines = f.read().split('\n')
    wanted = osp.normpath(abs_path(config))
    starts = [i for i, ln in enumerate(lines) if ln.startswith('  - Name:')]
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(lines)
        block = lines[start:stop]
        configs = [ln.split(':', 1)[1].strip() for ln in block
                   if ln.startswith('    Config:')]
        if not configs or osp.normpath(abs_path(configs[0])) != wanted:
            continue
        at = next((i for i, ln in enumerate(block)
                   if ln.startswith('    Results:')), None)
        if at is None:
            raise ValueError(f'{path}: model {block[0].split(":", 1)[1]} '
                             'has no "Results:" line')
        end = at + 1
        while end < len(block) and block[end].startswith('      '):
            end += 1
        old = block[at:end]
        if old[0].split(':', 1)[1].strip() != 'null' and not all(
                MEASURED in ln for ln in old if 'Source:' in ln):
            return True  # a paper's numbers: kept
        block[at:end] = ['    Results:'] + items
        lines[start:stop] = block
        with open(path, 'w') as f:
            f.write('\n'.join(lines))
        return True
    return False


def fill_metafiles(proto: dict, rows: List[dict]) -> None:
    """Each entry run with its config as shipped (or marked
    ``metafile=True`` in the protocol) fills its model's results in the
    ``metafile.yml`` beside the config."""
    entries = {e['name']: e for e in proto['entries']}
    for row in rows:
        entry = entries.get(row['name'])
        if entry is None or not entry.get('metafile',
                                          not entry['cfg_options']):
            continue
        meta = osp.join(osp.dirname(abs_path(entry['config'])),
                        'metafile.yml')
        if osp.isfile(meta) and not fill_metafile(
                meta, entry['config'], metafile_results(proto, row)):
            print(f'note: {meta} lists no model with Config: '
                  f'{entry["config"]}; its results were not written there')
