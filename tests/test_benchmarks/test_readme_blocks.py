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
from quality_tool.figures_detection import SMOKE_FILE  # noqa: E402
from quality_tool.figures_runs import CHAIN_FILE, MEASURED_FILE  # noqa: E402
from quality_tool.figures_sepp import SEPP_FILE  # noqa: E402
from test_quality import synthetic, write_protocol  # noqa: E402

# Which generated blocks each README has; a new marked block needs a
# renderer and a line here.
GENERATED = {
    'README.md': ['quality-headline', 'chain-results', 'detection-smoke',
                  'quality-table', 'quality-changes', 'step-time',
                  'interclr-memory', 'measured'],
    osp.join('configs', 'bsim', 'README.md'): ['quality-rows',
                                               'recipe-search'],
    osp.join('configs', 'interclr', 'README.md'): ['quality-rows'],
    osp.join('configs', 'sane', 'README.md'): ['quality-rows'],
    osp.join('configs', 'sepp', 'README.md'): ['sepp-mining',
                                               'quality-rows'],
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


MACHINE = 'CPU: 2 cores (test)'


def measured_records():
    def timed(name, wall, rc=0, date='2026-12-01', note=None):
        return dict(name=name, command=f'bash {name}.sh', wall_s=wall, rc=rc,
                    date=date, device=MACHINE, note=note)
    return [
        timed('other', 42.4),  # an unknown name: after the known ones
        timed('tests', 300.0, note='10 passed'),
        timed('tests', 457.2, date='2026-12-02', note='436 | passed'),
        timed('demo', 3725.0, rc=1),
    ]


def chain_records():
    when = dict(date='2026-12-01', device=MACHINE)
    return [
        dict(when, step='conversion (`extract_backbone_weights.py`)',
             kind='conversion', kept=120, parameters=11_168_832,
             dropped={'neck': 12}, wall_s=2.34),
        dict(when, step='linear evaluation', result='top-1 **75.97 %**',
             wall_s=996, note='Shared cores.'),
        dict(when, step='detection', result='mAP **17.4 %**', wall_s=3540,
             note='A paragraph\nof two lines.'),
        dict(when, step='linear probe (`linear_probe.py`)',
             kind='linear-probe', linear_top1=81.234, train_top1=85.0,
             dim=512, iterations=300, wall_s=61.0),
    ]


def sepp_records():
    def mined(k, backend, pairs, coverage, purity, **extra):
        return dict(dict(
            date='2026-12-01', device=MACHINE, checkpoint='ckpt.pth',
            checkpoint_note=None, k=k, threshold=None, mutual=False,
            backend=backend, max_mib=256,
            dataset=dict(type='FashionMNIST', length=60000),
            report=dict(pairs=pairs, coverage=coverage, purity=purity,
                        embed_s=111.4, search_s=51.6, total_s=163.0,
                        peak_rss_mib=1350)), **extra)
    return [
        mined(5, 'faiss', 300000, 1.0, 0.7351, note='Purity: same label.'),
        mined(1, 'torch', 11220, 0.374, 0.806, mutual=True, threshold=0.95,
              backend_used='torch'),
        dict(mined(5, None, 30000, 0.5, None), checkpoint=None,
             checkpoint_note='the MoCo v2 checkpoint (kNN 71.66 %)',
             date='2026-12-02'),
    ]


def smoke_records():
    settings = dict(config='c.py', backbone_sha256='ab' * 32, iters=300,
                    scale=224, rois=64, batch_size=4)
    return [dict(settings, arm=arm, seed=seed, map50=value, wall_s=60.0)
            for arm, seed, value in [('pretrained', 0, 50.0),
                                     ('random', 0, 36.0)]] + [
        dict(settings, iters=10, arm='random', seed=0, map50=1.0,
             wall_s=6.0)]


@pytest.fixture
def figure_results(tmp_path):
    folder = tmp_path / 'results'
    folder.mkdir()
    shapes = [('cpu-r18', 64, 28, 20, True), ('r50-224', 16, 224, 6, True),
              ('cpu-r18', 128, 28, 20, False)]
    for (name, _), shape in zip(STEP_TIME_FILES, shapes):
        (folder / name).write_text(json.dumps(step_time_result(*shape)))
    (folder / INTERCLR_FILE).write_text(json.dumps(interclr_result()))
    for name, records in [(MEASURED_FILE, measured_records()),
                          (CHAIN_FILE, chain_records()),
                          (SEPP_FILE, sepp_records()),
                          (SMOKE_FILE, smoke_records())]:
        for record in records:
            quality.append_record(str(folder / name), record)
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
    assert first.startswith('# title\n') and '\nold\n' not in first
    assert first.count('prose\n') == len(quality.FIGURE_RENDERERS)
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


def twice(render, folder):
    """A renderer's text, checked to be the same bytes the second time."""
    text = render(folder)
    assert render(folder) == text
    return text


def test_measured_block(tmp_path, figure_results):
    text = twice(quality.render_measured, figure_results)
    lines = text.splitlines()
    assert lines[0] == f'Measured on {MACHINE}:'
    assert lines[2] == '| what | date | wall time | notes |'
    # Known names in their order, then the others; the latest of each.
    assert lines[4] == ('| demo (`bash tools/run_demo.sh`, environment in '
                        'place) | 2026-12-01 | 1 h 2 min 5 s (**failed**: '
                        'exit status 1) | |')
    assert lines[5] == ('| test suite (`bash tools/run_tests.sh`, '
                        'environment in place) | 2026-12-02 | 7 min 37 s | '
                        '436 \\| passed |')
    assert lines[6] == '| other (`bash other.sh`) | 2026-12-01 | 42 s | |'
    assert len(lines) == 7 and '10 passed' not in text
    # Two machines: no heading, each row says its own.
    quality.append_record(osp.join(figure_results, MEASURED_FILE), dict(
        measured_records()[0], name='ci', device='GPU box'))
    text = quality.render_measured(figure_results)
    assert text.startswith('| what | date, machine | wall time | notes |')
    assert '| 2026-12-01, GPU box | 42 s |' in text
    assert quality.render_measured(str(tmp_path)) == 'Not measured yet.'


def test_transfer_chain_block(tmp_path, figure_results):
    text = twice(quality.render_transfer_chain, figure_results)
    lines = text.splitlines()
    assert lines[:4] == [f'Measured on {MACHINE}, 2026-12-01:', '',
                         '| step | result | wall time |',
                         '| --- | --- | --- |']
    assert lines[4] == ('| conversion (`extract_backbone_weights.py`) | 120 '
                        'backbone tensors kept (11.17 M parameters), '
                        'dropped: neck (12) | 2.3 s |')
    assert lines[5] == '| linear evaluation | top-1 **75.97 %** | 16.6 min |'
    assert lines[6] == '| detection | mAP **17.4 %** | 59 min |'
    assert lines[7] == ('| linear probe (`linear_probe.py`) | top-1 '
                        '**81.23 %** on the test split (train 85.00 %; '
                        '512-d features, 300 L-BFGS iterations) | 1 min |')
    # The notes, each a paragraph, as stored.
    assert text.endswith('|\n\nShared cores.\n\nA paragraph\nof two lines.')
    # A step measured again: its latest record, in the step's place.
    quality.append_record(osp.join(figure_results, CHAIN_FILE), dict(
        chain_records()[1], result='top-1 **80.00 %**', date='2026-12-05'))
    lines = quality.render_transfer_chain(figure_results).splitlines()
    assert lines[0] == f'Measured on {MACHINE}:'
    assert lines[2] == '| step | result | wall time | date |'
    assert lines[5] == ('| linear evaluation | top-1 **80.00 %** | 16.6 min '
                        '| 2026-12-05 |')
    assert quality.render_transfer_chain(str(tmp_path)) == 'Not run yet.'


def test_sepp_mining_block(tmp_path, figure_results):
    text = twice(quality.render_sepp_mining, figure_results)
    first, second = text.split('\n\nThe miner')
    lines = first.splitlines()
    assert lines[0] == ('The miner on Fashion-MNIST with `ckpt.pth`, '
                        f'measured on {MACHINE}, 2026-12-01:')
    assert lines[4] == ('| 60,000 | 5 | - | faiss | 300,000 | 100 % | '
                        '73.5 % | 111 / 52 / 163 s | 1,350 MiB |')
    assert lines[5] == ('| 60,000 | 1 | threshold 0.95, mutual | torch (256 '
                        'MiB blocks) | 11,220 | 37.4 % | 80.6 % | '
                        '111 / 52 / 163 s | 1,350 MiB |')
    assert lines[6:] == ['', 'Purity: same label.']
    assert second.startswith(' on Fashion-MNIST with the MoCo v2 checkpoint '
                             f'(kNN 71.66 %), measured on {MACHINE}, '
                             '2026-12-02:')
    assert second.endswith('| 60,000 | 5 | - | not recorded | 30,000 | 50.0 '
                           '% | - | 111 / 52 / 163 s | 1,350 MiB |')
    assert quality.render_sepp_mining(str(tmp_path)) == 'Not run yet.'


def test_detection_smoke_block(tmp_path, figure_results):
    text = twice(quality.render_detection_smoke, figure_results)
    first, second = text.split('\n\nFaster R-CNN')
    assert first.startswith('Faster R-CNN R18-C4 on the Fashion-MNIST '
                            'detection set') and ', 300 iterations' in first
    assert '| pretrained | 1 | 50.00 ± 0.00 | 0: 50.00 | 1 |' in first
    assert first.endswith('**+14.00** points, one seed per arm: no spread '
                          'to compare with.')
    # Each set of settings in the order it first appears.
    assert ', 10 iterations' in second and '| random | 1 | 1.00 ± ' in second
    assert quality.render_detection_smoke(str(tmp_path)) == 'Not run yet.'
    # detection_smoke.py --readme writes the same block.
    readme = marked_readme(tmp_path / 'README.md', ['detection-smoke'])
    quality.fill_smoke(readme, osp.join(figure_results, SMOKE_FILE))
    assert quality.read_block(readme, quality.begin_marker('detection-smoke'),
                              quality.end_marker('detection-smoke')) == text


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
    figures = {name for names in GENERATED.values() for name in names} - {
        'quality-table', 'recipe-search', 'quality-rows'} - set(
            quality.QUALITY_VIEWS)
    assert figures == set(quality.FIGURE_RENDERERS)
    assert set(quality.QUALITY_VIEWS) <= set(GENERATED['README.md'])
    # Each figure block is written into the README that has it.
    homes = quality.figure_homes()
    assert {name: osp.join(ROOT, path) for path, names in GENERATED.items()
            for name in names if name in figures} == homes


def test_shipped_figures_and_search_regenerate_unchanged():
    homes = quality.figure_homes()
    for name, text in quality.figure_blocks().items():
        assert read_shipped(homes[name], name) == text, name
    assert read_shipped(osp.join('configs', 'bsim', 'README.md'),
                        'recipe-search') == quality.search_block()


def test_shipped_quality_table_regenerates_unchanged():
    """Rendering only: no chart, no metafile, nothing trained."""
    records = quality.quality_records(quality.RESULTS)
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


def test_shipped_quality_views_regenerate_unchanged():
    """The headline and the before -> after lists are pure functions of the
    records and the current digests: after `quality.py report` they match
    (a changed recipe changes them, so report must run again)."""
    views = quality.quality_views(quality.default_protocols(),
                                  quality.quality_records(quality.RESULTS))
    assert len(views) == len(quality.QUALITY_VIEWS) + 4
    for (path, name), text in views.items():
        assert read_shipped(path, name) == text, (path, name)
