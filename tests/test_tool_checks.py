"""tools/test.py and the kNN benchmark load the weights they score strictly
and say which keys disagree; bad options stop them with the value named;
every tool's --help is complete."""
import importlib.util
import os
import os.path as osp
import runpy
import subprocess
import sys
import uuid

import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from conftest import ROOT
from helpers import tiny_config


def load_tool(*parts):
    path = osp.join(ROOT, 'tools', *parts)
    spec = importlib.util.spec_from_file_location(
        'tool_' + osp.splitext(parts[-1])[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def setup(tmp_path_factory, tiny_fashion_root):
    """The tiny kNN config; a full checkpoint and its exported backbone
    whose backbone is zeroed (no random-init model scores like it); a
    checkpoint of the same model with a ResNet-34 backbone."""
    tmp = tmp_path_factory.mktemp('checks')
    cfg = tiny_config('unused', tiny_fashion_root, max_epochs=1,
                      validate=True)
    cfg.pop('experiment_name')
    cfg.pop('work_dir')
    config = str(tmp / 'tiny_knn.py')
    cfg.dump(config)

    init_default_scope('mmpretrain')

    def state_of(depth):
        model_cfg = cfg.model.copy()
        model_cfg.backbone.depth = depth
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
        return MODELS.build(model_cfg).state_dict()

    state = state_of(18)
    for key, value in state.items():
        if key.startswith('backbone.') and value.is_floating_point():
            value.fill_(1.0 if key.endswith('running_var') else 0.0)
    paths = dict(config=config, full=str(tmp / 'full.pth'),
                 backbone=str(tmp / 'backbone.pth'),
                 deeper=str(tmp / 'r34.pth'))
    torch.save(dict(state_dict=state, meta={}), paths['full'])
    torch.save(dict(state_dict={
        k[len('backbone.'):]: v
        for k, v in state.items() if k.startswith('backbone.')
    }), paths['backbone'])
    torch.save(dict(state_dict=state_of(34), meta={}), paths['deeper'])
    return paths


def test_test_py_refuses_a_checkpoint_that_does_not_fit(setup, tmp_path):
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', setup['config'], setup['deeper'],
         '--work-dir', str(tmp_path)],
        cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS='1'),
        capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    err = proc.stderr
    assert f'error: {setup["deeper"]} does not fit the backbone of' in err
    # The keys, the config's depth and what the checkpoint holds.
    assert 'in the checkpoint but not in the model (of layer1.2, ' in err
    assert 'depth=18' in err and '3, 4, 6, 3 BasicBlocks (depth 34)' in err
    assert 'Epoch(test)' not in proc.stdout + err


def run_test_py(config, checkpoint, tmp_path, monkeypatch):
    """tools/test.py's main in this process (a real Runner)."""
    tool = runpy.run_path(osp.join(ROOT, 'tools', 'test.py'))
    monkeypatch.setattr(sys, 'argv', [
        'test.py', config, checkpoint, '--work-dir', str(tmp_path),
        '--cfg-options', f'experiment_name=t{uuid.uuid4().hex[:8]}'
    ])
    return tool['main']()


def test_test_py_scores_an_exported_backbone_as_the_checkpoint(
        setup, tmp_path, monkeypatch):
    full = run_test_py(setup['config'], setup['full'], tmp_path,
                       monkeypatch)['knn/top1']
    exported = run_test_py(setup['config'], setup['backbone'], tmp_path,
                           monkeypatch)['knn/top1']
    assert exported == full
    # The zeroed backbone embeds every image alike: one class for all
    # queries (3 or 4 of the 32), far below any random initialisation.
    assert full <= 12.5


@pytest.fixture(scope='module')
def knn():
    return load_tool('benchmarks', 'classification', 'knn.py')


def test_knn_names_the_keys_and_depths_that_disagree(setup, knn):
    with pytest.raises(SystemExit) as err:
        knn.main([setup['config'], setup['deeper']])
    message = str(err.value)
    assert 'does not fit the backbone' in message
    assert 'not in the model (of layer1.2, layer2.2, layer2.3, ' in message
    assert "ResNet_CIFAR(depth=18, in_channels=1, base_channels=4)" in \
        message
    assert '3, 4, 6, 3 BasicBlocks (depth 34)' in message


@pytest.mark.parametrize('options,named', [
    (['--k', '0'], '--k=0'),
    (['--k', '-5'], '--k=-5'),
    (['--temperature', '0'], '--temperature=0'),
    (['--k', '65'], '--k=65 is larger than the bank (64 images)'),
])
def test_knn_refuses_bad_k_and_temperature(setup, knn, options, named):
    with pytest.raises(SystemExit) as err:
        knn.main([setup['config'], setup['full']] + options)
    assert named in str(err.value)


def option_helps(parser):
    return {
        action.dest: action.help
        for action in parser._actions if action.dest != 'help'
    }


@pytest.mark.parametrize('tool', [('sepp', 'mine_pairs.py'),
                                  ('benchmarks', 'mmdetection',
                                   'make_fashion_detection.py')])
def test_every_option_has_help(tool):
    parser = load_tool(*tool).build_parser()
    assert all(option_helps(parser).values()), option_helps(parser)
    # The description is a whole sentence.
    assert parser.description.endswith('.')


def test_quality_help_hides_the_internal_child_command(capsys):
    quality = load_tool('benchmarks', 'quality.py')
    with pytest.raises(SystemExit) as exit_:
        quality.main(['--help'])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert 'run' in out and '_child' not in out
    # Still a command (an unknown one would exit 2 with "invalid choice").
    with pytest.raises(SystemExit) as exit_:
        quality.main(['_child', '--help'])
    assert exit_.value.code == 0 and '--entry' in capsys.readouterr().out
