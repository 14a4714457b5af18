"""tools/train.py, tools/test.py and tools/dist_train.sh as a user runs them."""
import glob
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

from conftest import ROOT
from helpers import tiny_config


def run(cmd, extra_env=None, **kwargs):
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1')
    env.update(extra_env or {})
    return subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        **kwargs)


@pytest.fixture(scope='module')
def tiny_cfg_file(tmp_path_factory, tiny_fashion_root):
    path = tmp_path_factory.mktemp('cfg') / 'tiny_bsim.py'
    cfg = tiny_config('unused', tiny_fashion_root, max_epochs=1,
                      validate=True)
    cfg.pop('experiment_name')
    cfg.pop('work_dir')
    cfg.dump(str(path))
    return str(path)


@pytest.fixture(scope='module')
def trained(tmp_path_factory, tiny_cfg_file):
    work = str(tmp_path_factory.mktemp('train'))
    proc = run([
        sys.executable, 'tools/train.py', tiny_cfg_file, '--work-dir', work,
        '--cfg-options', 'model.bsim_weight=0.5'
    ])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return work, proc.stdout + proc.stderr


def test_train_py_trains_and_validates(trained):
    work, log = trained
    assert osp.isfile(osp.join(work, 'epoch_1.pth'))
    assert 'knn/top1' in log
    assert 'loss_bsim' in log
    ckpt = torch.load(
        osp.join(work, 'epoch_1.pth'), map_location='cpu', weights_only=True)
    assert 'bsim_weight=0.5' in ckpt['meta']['cfg'].replace(' ', '')


def test_test_py_reports_knn(trained, tiny_cfg_file, tmp_path):
    work, _ = trained
    out = str(tmp_path / 'metrics.json')
    proc = run([
        sys.executable, 'tools/test.py', tiny_cfg_file,
        osp.join(work, 'epoch_1.pth'), '--work-dir',
        str(tmp_path), '--out', out
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out) as f:
        metrics = json.load(f)
    assert 0 <= metrics['knn/top1'] <= 100
    # The kNN benchmark scores the same checkpoint, and its exported
    # backbone, exactly as the test loop does.
    knn_outs = []
    exported = str(tmp_path / 'backbone.pth')
    proc = run([
        sys.executable, 'tools/model_converters/extract_backbone_weights.py',
        osp.join(work, 'epoch_1.pth'), exported
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    for i, ckpt in enumerate((osp.join(work, 'epoch_1.pth'), exported)):
        knn_outs.append(str(tmp_path / f'knn{i}.json'))
        proc = run([
            sys.executable, 'tools/benchmarks/classification/knn.py',
            tiny_cfg_file, ckpt, '--out', knn_outs[-1]
        ])
        assert proc.returncode == 0, proc.stderr[-3000:]
    for path in knn_outs:
        with open(path) as f:
            assert json.load(f)['knn_top1'] == pytest.approx(
                metrics['knn/top1'], abs=0.01)


def test_bad_value_stops_before_training(tiny_cfg_file, tmp_path):
    proc = run([
        sys.executable, 'tools/train.py', tiny_cfg_file, '--work-dir',
        str(tmp_path), '--cfg-options',
        'data_preprocessor.mixer.alpha=-2.0'
    ])
    assert proc.returncode != 0
    assert 'alpha=-2.0' in proc.stderr
    assert not glob.glob(osp.join(str(tmp_path), '*.pth'))
    assert 'Epoch(train)' not in proc.stdout + proc.stderr


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def dist_train(cfg_file, work_dir, *extra):
    proc = run(['bash', 'tools/dist_train.sh', cfg_file, '2', '--work-dir',
                work_dir, *extra],
               extra_env=dict(PORT=str(free_port())))
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    return log


def test_dist_train_sh_runs_two_cpu_processes(tiny_cfg_file, tmp_path):
    log = dist_train(tiny_cfg_file, str(tmp_path), '--no-validate')
    tail = log[-4000:]
    assert osp.isfile(osp.join(str(tmp_path), 'epoch_1.pth')), tail
    # Two processes of 8 images each: 2 iterations for 32 images.
    assert 'Epoch(train) [1][2/2]' in log, tail
    assert 'Distributed training: True' in log, tail


@pytest.fixture(scope='module')
def tiny_two_epoch_cfg_file(tmp_path_factory, tiny_fashion_root):
    path = tmp_path_factory.mktemp('cfg2') / 'tiny_bsim_2e.py'
    cfg = tiny_config('unused', tiny_fashion_root, max_epochs=2)
    # Different random streams per rank, so that restoring each rank's own
    # state matters.
    cfg.randomness = dict(seed=0, diff_rank_seed=True)
    cfg.pop('experiment_name')
    cfg.pop('work_dir')
    cfg.dump(str(path))
    return str(path)


def test_dist_resume_is_exact(tiny_two_epoch_cfg_file, tmp_path):
    """Two gloo processes: stop after epoch 1, resume, and end with the
    weights of an uninterrupted two-epoch run (per-rank random states)."""
    straight, split = str(tmp_path / 'straight'), str(tmp_path / 'split')
    dist_train(tiny_two_epoch_cfg_file, straight)
    # The LR schedule is defined by iterations, so stopping after epoch 1
    # (max_epochs=1) leaves the first epoch as it is.
    dist_train(tiny_two_epoch_cfg_file, split, '--cfg-options',
               'train_cfg.max_epochs=1')
    ckpt = torch.load(osp.join(split, 'epoch_1.pth'), weights_only=True)
    assert len(ckpt['rng_state']) == 2
    assert not torch.equal(ckpt['rng_state'][0]['torch'],
                           ckpt['rng_state'][1]['torch'])
    log = dist_train(tiny_two_epoch_cfg_file, split, '--resume')
    assert 'resumed epoch: 1' in log
    a = torch.load(osp.join(straight, 'epoch_2.pth'), weights_only=True)
    b = torch.load(osp.join(split, 'epoch_2.pth'), weights_only=True)
    different = [
        k for k in a['state_dict']
        if not torch.equal(a['state_dict'][k], b['state_dict'][k])
    ]
    assert not different, different[:5]


def test_demo_reports_both_figures_and_writes_plot(tiny_fashion_root,
                                                    tmp_path):
    """tools/demo.py end to end on a tiny config: the random-init and the
    trained kNN figures, the plot and the summary."""
    cfg = tiny_config('unused', tiny_fashion_root, max_epochs=1,
                      validate=True)
    cfg.custom_hooks = cfg.custom_hooks + [
        dict(type='InitialValidationHook')
    ]
    cfg.pop('experiment_name')
    cfg.pop('work_dir')
    cfg_path = str(tmp_path / 'tiny_demo.py')
    cfg.dump(cfg_path)
    work = str(tmp_path / 'work')
    proc = run([
        sys.executable, 'tools/demo.py', '--config', cfg_path, '--work-dir',
        work
    ])
    out = proc.stdout + proc.stderr
    with open(osp.join(work, 'summary.json')) as f:
        summary = json.load(f)
    assert summary['epochs'] == 1 and summary['bank_size'] == 64
    init, trained = summary['knn_top1_random_init'], summary[
        'knn_top1_trained']
    assert f'random initialisation : {init:6.2f} %' in out
    assert f'after 1 epochs of BSIM : {trained:6.2f} %' in out
    # The pixel references use the same bank, queries, k and T; the tiny
    # classes are bars at different heights, which pixels separate.
    assert summary['knn_top1_raw_pixels'] == 100.0
    assert 'raw pixels            : 100.00 %' in out
    assert osp.getsize(osp.join(work, 'curves.png')) > 10_000
    # It fails loudly when training did not beat random initialisation.
    assert proc.returncode == (0 if trained > init else 1), out[-3000:]


def test_step_time_benchmark_runs(tmp_path):
    out = str(tmp_path / 'step.json')
    proc = run([
        sys.executable, 'tools/benchmarks/step_time.py', '--preset',
        'cpu-small', '--batch', '8', '--steps', '2', '--warmup', '1',
        '--pairs', 'sane', 'byol', '--json', out
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out) as f:
        result = json.load(f)
    assert result['batch'] == 8
    assert [row['pair'] for row in result['pairs']] == ['sane', 'byol']
    for row in result['pairs']:
        assert row['ratio'] > 0
        # Peak memory of each model's own steps, measured in its process.
        assert row['base_peak_mib'] > 0 and row['method_peak_mib'] > 0


def test_tools_do_not_print_the_pkg_resources_warning(tmp_path):
    """Loading an `mmpretrain::` config makes mmengine import pkg_resources,
    which warns (twice) under setuptools 80.9; the tools silence exactly
    that warning. (The ImageNet config has no test loop: the run stops
    after the config has been loaded and the runner built.)"""
    ckpt = tmp_path / 'empty.pth'
    ckpt.touch()
    proc = run([
        sys.executable, 'tools/test.py',
        'configs/bsim/bsim-simclr_resnet50_16xb256-coslr-200e_in1k.py',
        str(ckpt), '--work-dir', str(tmp_path)
    ])
    assert proc.returncode != 0
    assert 'test_loop' in proc.stderr  # it got as far as the runner
    assert 'pkg_resources is deprecated' not in proc.stderr + proc.stdout


def test_interclr_memory_benchmark_runs(tmp_path):
    out = str(tmp_path / 'interclr.json')
    proc = run([
        sys.executable, 'tools/benchmarks/interclr_memory.py', '--scale',
        '0.002', '--iters', '1', '--json', out
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out) as f:
        result = json.load(f)
    assert result['setting']['length'] == 2562
    assert [r['strategy'] for r in result['rows']] == [
        'random', 'hard', 'semihard', 'semieasy']
    assert all(r['floor_s'] > 0 and r['ratio'] > 0 for r in result['rows'])
