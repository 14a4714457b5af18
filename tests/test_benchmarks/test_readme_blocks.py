"""Every generated README block: rendered from its results files alone,
twice the same bytes, and the shipped READMEs as the shipped results give
them."""
import glob
import json
import os.path as osp
import sys

import pytest

from conftest import ROOT

sys.path.append(osp.join(ROOT, 'tools', 'benchmarks'))
import quality_tool as quality  # noqa: E402
from quality_tool.figures import INTERCLR_FILE, STEP_TIME_FILES  # noqa: E402
from test_quality import synthetic, write_protocol  # noqa: E402

# Which generated blocks each README has; a new marked block needs a
# renderer and a line here.
GENERATED = {
    'README.md': ['quality-table', 'step-time', 'interclr-memory'],
    osp.join('configs', 'bsim', 'README.md'): ['recipe-search'],
}


def step_time_result(preset, batch, size, steps, floor=True):
    pairs = [
        dict(pair='simclr', base_median_s=0.2004, method_median_s=0.3,
             ratio=1.497, base_peak_mib=100, method_peak_mib=120),
        dict(pair='mocov2', base_median_s=2.5, method_median_s=4.25,
             ratio=1.7, base_peak_mib=1000, method_peak_mib=1500),
    ]
    result = dict(preset=preset, device='cpu (2 threads)', batch=batch,
                  image_size=size, steps=steps, torch='2.13.0',
                  date='2026-12-01', pairs=pairs)
    if floor:
        result['floor'] = dict(simclr=1.495, mocov2=1.758)
    return result


def interclr_result():
    stages = {'similarities': 1.0, 'label index + positives': 0.01,
              'negatives': 2.004, 'logits + gradient': 0.5,
              'memory update + re-label': 0.02}
    return dict(peak_mib=2048, rows=[
        dict(strategy='random', floor_s=1.0, total_s=1.25, ratio=1.25,
             stages_s=stages),
        dict(strategy='semihard', floor_s=2.0, total_s=3.2, ratio=1.6,
             stages_s=stages),
    ])


@pytest.fixture
def figure_results(tmp_path):
    folder = tmp_path / 'results'
    folder.mkdir()
    shapes = [('cpu-r18', 64, 28, 20, True), ('r50-224', 16, 224, 6, True),
              ('cpu-r18', 128, 28, 20, False)]
    for (name, _), shape in zip(STEP_TIME_FILES, shapes):
        (folder / name).write_text(json.dumps(step_time_result(*shape)))
    (folder / INTERCLR_FILE).write_text(json.dumps(interclr_result()))
    return str(folder)


def marked_readme(path, names):
    text = '# title\n\n' + ''.join(
        f'{quality.begin_marker(n)}\nold\n{quality.end_marker(n)}\n\nprose\n'
        for n in names)
    path.write_text(text)
    return str(path)


def test_figure_blocks_render_from_their_results(tmp_path, figure_results):
    readme = marked_readme(tmp_path / 'README.md', quality.FIGURE_RENDERERS)
    quality.write_figures(readme, figure_results)
    first = open(readme).read()
    quality.write_figures(readme, figure_results)
    assert open(readme).read() == first  # idempotent, byte for byte
    assert first.startswith('# title\n') and 'old' not in first
    assert first.count('prose\n') == 2
    step = quality.read_block(readme, quality.begin_marker('step-time'),
                              quality.end_marker('step-time')).splitlines()
    assert step[2] == ('| ResNet-18 (recipe), 28 px, batch 64 | SimCLR | '
                       '0.200 | 0.300 | **1.50x** | 1.50x | 100 / 120 |')
    # The preset is named once; seconds above 1 with two decimals.
    assert step[3] == '| | MoCo v2 | 2.50 | 4.25 | **1.70x** | 1.76x | ' \
        '1000 / 1500 |'
    assert step[4].startswith('| ResNet-50, 224 px, batch 16 (6 steps) |')
    # No floor measured: a dash.
    assert step[6] == ('| ResNet-18 (recipe), 28 px, batch 128 (the '
                       "protocol's) | SimCLR | 0.200 | 0.300 | **1.50x** | "
                       '- | 100 / 120 |')
    memory = quality.read_block(readme,
                                quality.begin_marker('interclr-memory'),
                                quality.end_marker('interclr-memory'))
    assert '| **semihard** (default) | 2.00 | 3.20 | **1.60x** |' in memory
    assert '| random | 1.00 | 1.25 | 1.25x |' in memory
    assert 'Peak RSS 2.0 GiB.' in memory
    assert 'is **not met**' in memory  # 1.6x against the 1.5x target
    assert 'similarities 1.00 s, negatives 2.00 s (' in memory
    assert 'logits and gradient 0.50 s, everything else 0.03 s.' in memory


def test_quality_and_search_blocks_are_idempotent(tmp_path,
                                                  tiny_fashion_root):
    protocol, _ = write_protocol(tmp_path, tiny_fashion_root)
    results = str(tmp_path / 'results.jsonl')
    for record in [synthetic('pixels', 0, 80.0), synthetic('tiny', 0, 84.0),
                   synthetic('tiny', 1, 85.5)]:
        quality.append_record(results, record)
    readme = marked_readme(tmp_path / 'README.md',
                           ['quality-table', 'recipe-search'])
    texts = []
    for _ in range(2):
        quality.report([protocol], results, readme, str(tmp_path),
                       check_digests=False)
        quality.write_search(readme, results)
        texts.append(open(readme).read())
    assert texts[0] == texts[1]
    assert '**84.75** ± 1.06' in texts[0]
    assert '| 3 | tiny | 1 | 1 x 32 | 8 | 0.1 / 0.2 min | 85.50 |' in texts[0]


def read_shipped(path, name):
    return quality.read_block(osp.join(ROOT, path), quality.begin_marker(name),
                              quality.end_marker(name))


def test_every_generated_block_has_a_renderer():
    readmes = [osp.relpath(p, ROOT) for p in
               [osp.join(ROOT, 'README.md')] +
               sorted(glob.glob(osp.join(ROOT, 'configs', '*', 'README.md')))]
    found = {p: quality.generated_blocks(osp.join(ROOT, p)) for p in readmes}
    assert {p: names for p, names in found.items() if names} == GENERATED
    assert set(GENERATED['README.md']) - {'quality-table'} == set(
        quality.FIGURE_RENDERERS)


def test_shipped_figures_and_search_regenerate_unchanged():
    for name, text in quality.figure_blocks().items():
        assert read_shipped('README.md', name) == text, name
    assert read_shipped(osp.join('configs', 'bsim', 'README.md'),
                        'recipe-search') == quality.search_block()


def test_shipped_quality_table_regenerates_unchanged():
    """Rendering only: no chart, no metafile, nothing trained."""
    records = quality.read_records(quality.RESULTS)
    protocols = quality.default_protocols()
    pending = []
    for path in protocols:
        proto = quality.load_protocol(path)
        digests = quality.entry_digests(proto)
        recorded = {r['entry'] for r in records
                    if r['protocol'] == proto['name']}
        current = {r['entry'] for r in records
                   if r['protocol'] == proto['name']
                   and r.get('config_digest') == digests.get(r['entry'])}
        pending += sorted(recorded - current)
    if pending:
        # A changed recipe or revision makes earlier records stale until
        # they are run again; the README keeps the old rows till then.
        pytest.skip(f'runs pending for {pending}: quality.py run, then '
                    'report')
    text = quality.quality_block(protocols, records, metafiles=False,
                                 charts=False)
    assert read_shipped('README.md', 'quality-table') == text
