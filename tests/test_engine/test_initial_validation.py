import json
import os.path as osp

from mmengine.runner import Runner

from helpers import tiny_config


def knn_records(runner):
    path = osp.join(runner.work_dir, runner.timestamp, 'vis_data',
                    'scalars.json')
    with open(path) as f:
        return [json.loads(line) for line in f if 'knn/top1' in line]


def test_evaluates_before_training_and_not_on_resume(tmp_path,
                                                      tiny_fashion_root):
    def config(epochs):
        cfg = tiny_config(str(tmp_path), tiny_fashion_root,
                          max_epochs=epochs, validate=True)
        cfg.custom_hooks = cfg.custom_hooks + [
            dict(type='InitialValidationHook')
        ]
        return cfg

    runner = Runner.from_cfg(config(1))
    runner.train()
    assert [r['step'] for r in knn_records(runner)] == [0, 1]

    cfg = config(2)
    cfg.resume = True
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    assert [r['step'] for r in knn_records(resumed)] == [2]
