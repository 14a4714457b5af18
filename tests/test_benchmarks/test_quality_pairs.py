"""quality.py run mines a SePP entry's missing pairs first: from the source
run's final checkpoint when it is in the work dir, after training that run
again when it is not (recorded once), and never when the file is there; the
mining note gives the score of the checkpoint it mined from."""
import json
import os
import os.path as osp
import shutil
import sys

import pytest

from conftest import ROOT
from helpers import on_mined_pairs, tiny_config, tiny_recipe

sys.path.append(osp.join(ROOT, 'tools', 'benchmarks'))
import quality_tool as quality  # noqa: E402


def write_protocol(tmp_path, data_root, pairs=None, pairs_option=True):
    source_config = tiny_recipe(data_root, str(tmp_path / 'tiny_source.py'))
    # MoCo on the source's images and their mined pairs.
    sepp_config = tiny_recipe(
        data_root, str(tmp_path / 'tiny_sepp.py'),
        cfg=on_mined_pairs(tiny_config('unused', data_root, max_epochs=1),
                           'unset.npz'))
    pairs_file = str(tmp_path / 'pairs' / 'tiny_k1.npz')
    entries = [
        dict(name='tiny', method='Tiny', config=source_config),
        dict(name='tiny-sepp', method='Tiny SePP', config=sepp_config,
             base='tiny',
             pairs=dict(entry='tiny', seed=0, k=1) if pairs is None else
             pairs,
             cfg_options={'train_dataloader.dataset.pairs_file':
                          pairs_file} if pairs_option else {}),
    ]
    path = tmp_path / 'tiny_protocol.py'
    path.write_text('protocol = ' + repr(
        dict(name='tiny', title='Tiny protocol',
             dataset=dict(type='FashionMNIST', data_root=data_root),
             knn=dict(k=5, temperature=0.1), seeds=[0, 1, 2],
             entries=entries)) + '\n')
    return str(path), pairs_file


def entries_of(results):
    return [(r['entry'], r['seed']) for r in quality.read_records(results)]


def test_missing_pairs_are_mined_first(tmp_path, tiny_fashion_root, capsys):
    protocol, pairs_file = write_protocol(tmp_path, tiny_fashion_root)
    results = str(tmp_path / 'results' / 'quality.jsonl')
    mining = str(tmp_path / 'results' / 'sepp_mining.jsonl')
    work = str(tmp_path / 'work')

    # A fresh machine: no pairs, no source checkpoint, no records. The
    # source run is trained (and recorded), then mined, then the SePP run.
    quality.run_protocol(protocol, ['tiny-sepp'], [0], results, work,
                         references=False)
    assert entries_of(results) == [('tiny', 0), ('tiny-sepp', 0)]
    assert osp.isfile(pairs_file)
    mined, = quality.read_records(mining)
    assert mined['k'] == 1 and mined['report']['images'] == 32
    assert mined['checkpoint'].endswith(
        osp.join('tiny', 'tiny', 'seed0', 'epoch_1.pth'))
    knn = quality.read_records(results)[0]['knn_top1']
    assert mined['checkpoint_note'] == (
        f'the Tiny checkpoint of Tiny protocol (seed 0, 1 epoch, kNN '
        f'top-1 {knn:.2f} %)')
    assert 'Tiny SePP rows of tiny' in mined['note']

    # Pairs there: nothing is mined again.
    quality.run_protocol(protocol, ['tiny-sepp'], [1], results, work,
                         references=False)
    assert len(quality.read_records(mining)) == 1
    assert entries_of(results)[-1] == ('tiny-sepp', 1)

    # Pairs gone, the source checkpoint there: mined from it, no training.
    os.remove(pairs_file)
    capsys.readouterr()
    quality.run_protocol(protocol, ['tiny-sepp'], [2], results, work,
                         references=False)
    out = capsys.readouterr().out
    assert 'training tiny seed 0 first' not in out
    assert len(quality.read_records(mining)) == 2
    # The same checkpoint, so the same score in its note.
    assert quality.read_records(mining)[1]['checkpoint_note'] == \
        mined['checkpoint_note']
    assert entries_of(results) == [('tiny', 0), ('tiny-sepp', 0),
                                   ('tiny-sepp', 1), ('tiny-sepp', 2)]

    # Pairs and work dir gone (another machine), the source run recorded:
    # it is trained again for its checkpoint and not recorded twice.
    os.remove(pairs_file)
    shutil.rmtree(work)
    with open(results) as f:
        kept = [json.loads(line) for line in f
                if json.loads(line)['entry'] == 'tiny']
    # The recorded run scored otherwise (as on another machine): the note
    # gives the score of the checkpoint mined from, and the recorded one.
    with open(results, 'w') as f:
        f.write(json.dumps(dict(kept[0], knn_top1=12.34)) + '\n')
    quality.run_protocol(protocol, ['tiny-sepp'], [0], results, work,
                         references=False)
    out = capsys.readouterr().out
    assert 'training tiny seed 0 first' in out
    assert 'not recorded again' in out
    assert entries_of(results) == [('tiny', 0), ('tiny-sepp', 0)]
    assert len(quality.read_records(mining)) == 3
    note = quality.read_records(mining)[2]['checkpoint_note']
    assert f'kNN top-1 {knn:.2f} %; trained again on ' in note
    assert note.endswith('for its checkpoint, the recorded run read '
                         '12.34 %)')


@pytest.mark.parametrize('pairs, message', [
    (dict(entry='nope'), "pairs come from entry 'nope'"),
    (dict(entry='tiny-sepp'), "pairs come from entry 'tiny-sepp'"),
    (dict(entry='tiny', k=0), 'pairs k must be an integer >= 1, got 0'),
    (dict(entry='tiny', neighbours=2), "unknown keys ['neighbours']"),
    ('tiny', "pairs must be dict(entry=NAME"),
])
def test_bad_pairs_are_named(tmp_path, tiny_fashion_root, pairs, message):
    protocol, _ = write_protocol(tmp_path, tiny_fashion_root, pairs)
    with pytest.raises(ValueError) as error:
        quality.load_protocol(protocol)
    assert message in str(error.value)
    assert "entry 'tiny-sepp'" in str(error.value)


def test_pairs_without_a_pairs_file_option_are_named(tmp_path,
                                                     tiny_fashion_root):
    protocol, _ = write_protocol(tmp_path, tiny_fashion_root,
                                 pairs_option=False)
    with pytest.raises(ValueError) as error:
        quality.load_protocol(protocol)
    assert "entry 'tiny-sepp': has pairs but no cfg option ending in " \
        '.pairs_file' in str(error.value)
