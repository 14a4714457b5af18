"""tools/benchmarks/quality.py: records, skipping, references and report."""
import json
import os.path as osp
import statistics
import sys

import pytest

from conftest import ROOT
from helpers import tiny_recipe

sys.path.append(osp.join(ROOT, 'tools', 'benchmarks'))
import quality_tool as quality  # noqa: E402

RECORD_FIELDS = {
    'protocol', 'entry', 'method', 'config', 'cfg_options', 'config_digest',
    'seed', 'epochs', 'train_images', 'batch_size', 'train_s', 'wall_s',
    'knn_top1', 'bank', 'queries', 'k', 'temperature', 'commit', 'dirty',
    'date', 'device', 'torch'
}


def write_protocol(tmp_path, data_root, entries=None):
    config = tiny_recipe(data_root, str(tmp_path / 'tiny_bsim.py'))
    if entries is None:
        entries = [
            dict(name='tiny', method='BSIM-SimCLR', config=config,
                 budget='1 epoch'),
        ]
    path = tmp_path / 'tiny_protocol.py'
    path.write_text('protocol = ' + repr(
        dict(name='tiny', title='Tiny protocol',
             dataset=dict(type='FashionMNIST', data_root=data_root),
             knn=dict(k=5, temperature=0.1), seeds=[0],
             entries=entries)) + '\n')
    return str(path), config


@pytest.fixture(scope='module')
def protocol_run(tmp_path_factory, tiny_fashion_root):
    tmp = tmp_path_factory.mktemp('quality')
    protocol, config = write_protocol(tmp, tiny_fashion_root)
    results = str(tmp / 'results.jsonl')
    first = quality.run_protocol(
        protocol, results=results, work_root=str(tmp / 'work'))
    return tmp, protocol, config, results, first


def test_run_writes_well_formed_records(protocol_run):
    _, _, config, results, first = protocol_run
    records = quality.read_records(results)
    assert records == first
    assert [r['entry'] for r in records] == [
        'pixels', 'pixels-centred', 'untrained', 'tiny'
    ]
    run = records[-1]
    assert RECORD_FIELDS <= set(run), RECORD_FIELDS - set(run)
    assert run['config'] == config and run['seed'] == 0
    assert (run['epochs'], run['train_images'], run['batch_size']) == (1, 32,
                                                                      8)
    # The whole train split is the bank and the whole test split the queries.
    assert (run['bank'], run['queries']) == (64, 32)
    assert 0 <= run['knn_top1'] <= 100 and run['wall_s'] >= run['train_s']
    assert run['config_digest'] == quality.config_digest(
        quality.build_config(config))
    # The tiny data set's classes are bright bars at different heights:
    # pixel kNN separates them.
    assert records[0]['knn_top1'] == 100.0
    assert records[2]['init'].startswith('mmpretrain init_weights')
    # The untrained figure belongs to the model it was measured on.
    assert records[2]['config_digest'] == quality.model_digest(
        quality.build_config(config))
    assert records[0]['config_digest'] is None


def test_recorded_runs_are_skipped(protocol_run):
    tmp, protocol, _, results, _ = protocol_run
    before = open(results).read()
    assert quality.run_protocol(
        protocol, results=results, work_root=str(tmp / 'work')) == []
    assert open(results).read() == before


def test_changed_config_is_run_again(protocol_run, tmp_path):
    """A record of another recipe (other digest) does not count as done."""
    _, protocol, _, results, _ = protocol_run
    copy = str(tmp_path / 'results.jsonl')
    records = quality.read_records(results)
    for record in records:
        if record['entry'] == 'tiny':
            record['config_digest'] = 'another'
        quality.append_record(copy, record)
    proto = quality.load_protocol(protocol)
    digests = quality.entry_digests(proto)
    done = {quality.record_key(r) for r in quality.read_records(copy)}
    assert quality.expected_key(proto, 'tiny', 0, digests) not in done
    assert quality.expected_key(proto, 'pixels', 0, digests) in done


def synthetic(entry, seed, acc, **extra):
    record = dict(protocol='tiny', entry=entry, method=entry, seed=seed,
                  knn_top1=acc, wall_s=10.0, train_s=9.0, epochs=1,
                  train_images=32, batch_size=8, config_digest=None,
                  commit='abc1234', dirty=False, date='2026-11-30',
                  device='CPU: test', torch='2.13.0', k=5, temperature=0.1)
    record.update(extra)
    return record


def test_report_renders_table_and_chart(tmp_path, tiny_fashion_root):
    entries = [
        dict(name='base', method='Base', budget='1 epoch',
             config='CONFIG_PLACEHOLDER'),
        dict(name='method', method='Method', base='base', budget='1 epoch',
             config='CONFIG_PLACEHOLDER'),
    ]
    protocol, config = write_protocol(tmp_path, tiny_fashion_root, entries)
    text = open(protocol).read().replace('CONFIG_PLACEHOLDER', config)
    open(protocol, 'w').write(text)
    digest = quality.config_digest(quality.build_config(config))
    results = str(tmp_path / 'results.jsonl')
    records = [
        synthetic('pixels', 0, 80.0),
        synthetic('pixels-centred', 0, 82.5),
        synthetic('untrained', 0, 50.0, init='mmpretrain init_weights'),
        synthetic('base', 0, 81.0, config_digest=digest),
        synthetic('method', 0, 84.0, config_digest=digest),
        synthetic('method', 1, 85.0, config_digest=digest),
        synthetic('method', 2, 89.0, config_digest=digest),
        # a stale record of another recipe: left out of the table
        synthetic('method', 3, 10.0, config_digest='stale'),
    ]
    for record in records:
        quality.append_record(results, record)
    readme = tmp_path / 'README.md'
    readme.write_text(f'# title\n\n{quality.TABLE_BEGIN}\nold\n'
                      f'{quality.TABLE_END}\n\nafter\n')
    quality.report([protocol], results, str(readme), str(tmp_path))
    text = readme.read_text()
    assert text.startswith('# title') and text.endswith('after\n')
    assert 'old' not in text
    mean = statistics.fmean([84.0, 85.0, 89.0])
    std = statistics.stdev([84.0, 85.0, 89.0])
    row = next(ln for ln in text.splitlines() if ln.startswith('| [Method]'))
    assert f'**{mean:.2f}** ± {std:.2f}' in row
    assert '3: 84.00, 85.00, 89.00' in row
    assert f'{mean - 81.0:+.2f} vs Base (1 epoch)' in row
    # One seed has no spread to show.
    base = next(ln for ln in text.splitlines() if ln.startswith('| [Base]'))
    assert '**81.00** (1 seed)' in base and '±' not in base
    assert '10.00' not in text
    assert '| *centred pixels' in text and '82.50' in text
    chart = tmp_path / 'quality_tiny.png'
    assert chart.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert '![Tiny protocol](quality_tiny.png)' in text


def test_report_needs_the_markers(tmp_path, tiny_fashion_root):
    protocol, _ = write_protocol(tmp_path, tiny_fashion_root)
    results = str(tmp_path / 'r.jsonl')
    quality.append_record(results, synthetic('pixels', 0, 80.0))
    readme = tmp_path / 'README.md'
    readme.write_text('no markers\n')
    with pytest.raises(ValueError, match='quality-table:begin'):
        quality.report([protocol], results, str(readme), str(tmp_path))


def test_bad_protocols_are_named(tmp_path, tiny_fashion_root):
    _, config = write_protocol(tmp_path, tiny_fashion_root)
    bad = [
        ([dict(name='a', method='A', config='missing.py')], 'config not '
         'found: missing.py'),
        ([dict(name='a', method='A', config=config, base='nope')],
         "base='nope'"),
        ([dict(name='a', method='A', config=config, base=['a'])],
         "base='a'"),
        ([dict(name='a', method='A', config=config),
          dict(name='a', method='B', config=config)], 'unique'),
        ([dict(name='a', config=config)], 'lacks "method"'),
        ([dict(name='a', method='A', config=config, epoch_scale=0)],
         'epoch_scale=0'),
        ([dict(name='a', method='A', config=config, epoch_scale='1')],
         "epoch_scale='1'"),
    ]
    for entries, message in bad:
        path, _ = write_protocol(tmp_path, tiny_fashion_root, entries)
        with pytest.raises((KeyError, ValueError, FileNotFoundError),
                           match=message):
            quality.load_protocol(path)
    with pytest.raises(FileNotFoundError, match='nowhere.py'):
        quality.load_protocol(str(tmp_path / 'nowhere.py'))


def test_corrupt_results_line_is_named(tmp_path):
    path = tmp_path / 'r.jsonl'
    path.write_text(json.dumps(synthetic('pixels', 0, 1.0)) + '\n{oops\n')
    with pytest.raises(ValueError, match=r'r.jsonl:2'):
        quality.read_records(str(path))


def test_shipped_protocols_load():
    for path in quality.default_protocols():
        proto = quality.load_protocol(path)
        assert proto['knn'] == dict(k=200, temperature=0.1)
        assert len(proto['seeds']) >= 3
        # Every entry compared with a base shares the base's data set.
        entries = {e['name']: e for e in proto['entries']}
        for entry in proto['entries']:
            a = quality.build_config(entry['config'], entry['cfg_options'])
            for name in entry['bases']:
                base = entries[name]
                b = quality.build_config(base['config'], base['cfg_options'])
                # SePP serves the same images plus pairs of them.
                da, db = a.train_dataloader.dataset, b.train_dataloader.dataset
                if da.type == 'SemanticPairDataset':
                    da = da.dataset
                for key in ('type', 'pipeline', 'indices'):
                    assert da[key] == db[key]
                assert a.model.backbone == b.model.backbone
                assert a.optim_wrapper == b.optim_wrapper
                assert a.train_dataloader.batch_size == \
                    b.train_dataloader.batch_size


METAFILE = '''Collections:
  - Name: Tiny
# a comment that stays
Models:
  - Name: tiny_bsim
    In Collection: Tiny
    Config: {shipped}
    Results: null
  - Name: tiny_paper
    In Collection: Tiny
    Config: {paper}
    Results:
      - Task: Image Classification
        Dataset: ImageNet-1k
        Source: paper
        Metrics:
          Top 1 Accuracy: 70.0
'''


def test_report_fills_the_metafiles(tmp_path, tiny_fashion_root):
    import shutil

    import yaml
    shipped = str(tmp_path / 'tiny_bsim.py')
    paper = str(tmp_path / 'tiny_paper.py')
    entries = [
        dict(name='tiny', method='Tiny', budget='1 epoch', config=shipped),
        # another budget of the same config: not what the config ships
        dict(name='tiny-2e', method='Tiny', budget='2 epochs',
             config=shipped, cfg_options={'train_cfg.max_epochs': 2}),
        dict(name='paper', method='Paper', budget='1 epoch', config=paper),
    ]
    protocol, config = write_protocol(tmp_path, tiny_fashion_root, entries)
    assert config == shipped
    shutil.copy(shipped, paper)
    meta = tmp_path / 'metafile.yml'
    meta.write_text(METAFILE.format(shipped=shipped, paper=paper))
    results = str(tmp_path / 'results.jsonl')
    for record in [synthetic('tiny', 0, 84.0), synthetic('tiny', 1, 85.0),
                   synthetic('tiny-2e', 0, 99.0),
                   synthetic('paper', 0, 50.0)]:
        quality.append_record(results, record)
    quality.report([protocol], results, None, str(tmp_path),
                   check_digests=False)
    text = meta.read_text()
    assert '# a comment that stays' in text
    models = {m['Name']: m for m in yaml.safe_load(text)['Models']}
    result, = models['tiny_bsim']['Results']
    assert result['Dataset'] == 'Fashion-MNIST'
    assert result['Metrics'] == {'Top 1 Accuracy': 84.5}
    assert quality.MEASURED in result['Source']
    assert '2 seed(s) (84.00, 85.00, sample std 0.71)' in result['Source']
    assert '99.00' not in text
    # A paper's numbers are never replaced.
    assert models['tiny_paper']['Results'][0]['Source'] == 'paper'
    assert models['tiny_paper']['Results'][0]['Metrics'] == {
        'Top 1 Accuracy': 70.0}
    # Measured results are refreshed: run again with another seed.
    quality.append_record(results, synthetic('tiny', 2, 86.0))
    quality.report([protocol], results, None, str(tmp_path),
                   check_digests=False)
    models = {m['Name']: m
              for m in yaml.safe_load(meta.read_text())['Models']}
    assert models['tiny_bsim']['Results'][0]['Metrics'] == {
        'Top 1 Accuracy': 85.0}
    assert len(models['tiny_bsim']['Results']) == 1


def test_an_entry_revision_makes_its_records_stale(tmp_path,
                                                   tiny_fashion_root):
    """A code change a config does not show (the entry's ``revision``)
    gives the entry a new digest; entries without one keep theirs."""
    entries = [
        dict(name='same', method='A', budget='1 epoch',
             config='CONFIG_PLACEHOLDER'),
        dict(name='revised', method='B', budget='1 epoch',
             config='CONFIG_PLACEHOLDER', revision='corrected loss'),
    ]
    protocol, config = write_protocol(tmp_path, tiny_fashion_root, entries)
    text = open(protocol).read().replace('CONFIG_PLACEHOLDER', config)
    open(protocol, 'w').write(text)
    plain = quality.config_digest(quality.build_config(config))
    digests = quality.entry_digests(quality.load_protocol(protocol))
    assert digests['same'] == plain
    assert digests['revised'] != plain
    assert digests['revised'] == quality.config_digest(
        quality.build_config(config), 'corrected loss')


def test_result_neutral_runtime_parts_keep_the_digest(tmp_path,
                                                      tiny_fashion_root):
    """The atomic checkpoint writer and TrainProgressHook do not change a
    run's numbers: a config with them has the digest of one without; any
    other hook changes it."""
    _, config = write_protocol(tmp_path, tiny_fashion_root)
    cfg = quality.build_config(config)
    cfg.custom_hooks = [h for h in cfg.custom_hooks
                        if h['type'] != 'TrainProgressHook']
    cfg.default_hooks.checkpoint.type = 'CheckpointHook'
    plain = quality.config_digest(cfg)
    cfg.custom_hooks = list(cfg.custom_hooks) + [
        dict(type='TrainProgressHook')]
    cfg.default_hooks.checkpoint.type = 'AtomicCheckpointHook'
    assert quality.config_digest(cfg) == plain
    cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type='SimSiamHook')]
    assert quality.config_digest(cfg) != plain


def test_same_function_convs_keep_the_config_and_model_digests(
        tmp_path, tiny_fashion_root):
    """A backbone's ``conv_cfg=dict(type='SinglePixelConv2d')`` computes
    nn.Conv2d's function (tests/test_models/test_conv.py): the config and
    the untrained reference keep their digests; any other conv_cfg, or
    the same type with arguments, changes them."""
    _, config = write_protocol(tmp_path, tiny_fashion_root)
    cfg = quality.build_config(config)
    cfg.model.backbone.pop('conv_cfg', None)
    plain = quality.config_digest(cfg), quality.model_digest(cfg)
    cfg.model.backbone.conv_cfg = dict(type='SinglePixelConv2d')
    assert (quality.config_digest(cfg), quality.model_digest(cfg)) == plain
    for other in (dict(type='Conv2d'),
                  dict(type='SinglePixelConv2d', bias=True)):
        cfg.model.backbone.conv_cfg = other
        assert quality.config_digest(cfg) != plain[0]
        assert quality.model_digest(cfg) != plain[1]
