"""Fine-tune an mmdet transfer config on a pre-trained backbone, with
mmdet's own tools/train.py.

    python tools/benchmarks/mmdetection/train.py CONFIG BACKBONE \
        --work-dir DIR [--launcher pytorch] [any other mmdet train.py option]

BACKBONE is a pre-training checkpoint of any of the plugin's algorithms or a
backbone exported by tools/model_converters/extract_backbone_weights.py.
The script applies ``--cfg-options``, writes the initialisers from the
config's ``pretrained_prefixes`` option (which stages go to the backbone and
to a C4 detector's RoI head; see bsim_plugin/utils/transfer.py), sets
BACKBONE in every ``StrictPretrained`` initialiser, writes the resulting
config into the work dir and hands it to mmdet's tools/train.py (shipped in
the mmdet package). ``--dry-run`` stops after writing it. For example, res5
from mmdet's initialisation instead of the backbone:

    ... --cfg-options "pretrained_prefixes.roi_head=[]"
Multi-GPU: dist_train.sh and slurm_train.sh beside this file.
"""
import argparse
import os
import os.path as osp
import runpy
import sys


def strict_initialisers(node, path='model'):
    """(dotted path, init_cfg) of every StrictPretrained in a config."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'StrictPretrained':
            yield f'{path}.init_cfg', init
        for key, value in node.items():
            if key != 'init_cfg':
                yield from strict_initialisers(value, f'{path}.{key}')


def set_backbone(cfg, backbone: str) -> list:
    """Point every StrictPretrained of ``cfg.model`` at ``backbone``."""
    found = list(strict_initialisers(cfg.model))
    if not found:
        if cfg.get('pretrained_prefixes') is not None:
            raise ValueError(
                'pretrained_prefixes imports nothing (every part is []): '
                "train from random initialisation with mmdet's "
                'tools/train.py instead')
        raise ValueError('the config has no StrictPretrained initialiser: '
                         'is it one of configs/benchmarks/mmdetection?')
    for _, init in found:
        init['checkpoint'] = backbone
    return [path for path, _ in found]


def mmdet_train_script() -> str:
    import mmdet
    path = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', 'train.py')
    if not osp.isfile(path):
        raise FileNotFoundError(f'mmdet train script not found at {path}')
    return path


def main(argv=None):
    from bsim_plugin.apis import silence_pkg_resources_warning
    silence_pkg_resources_warning()
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('backbone')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--dry-run', action='store_true',
                        help='write the config, print the command, stop')
    from mmengine.config import Config, DictAction
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config (key=value), applied before '
        'pretrained_prefixes is read')
    args, rest = parser.parse_known_args(argv)
    if not osp.isfile(args.backbone):
        parser.error(f'backbone checkpoint not found: {args.backbone}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    backbone = osp.abspath(args.backbone)
    if cfg.get('pretrained_prefixes') is not None:
        from bsim_plugin.utils.transfer import (apply_pretrained_prefixes,
                                                describe_pretrained_prefixes)
        try:
            written = apply_pretrained_prefixes(cfg, backbone)
        except ValueError as e:
            parser.error(str(e))
        print(describe_pretrained_prefixes(written))
    try:
        paths = set_backbone(cfg, backbone)
    except ValueError as e:
        parser.error(str(e))
    os.makedirs(args.work_dir, exist_ok=True)
    out = osp.join(args.work_dir, osp.basename(args.config))
    cfg.dump(out)
    script = mmdet_train_script()
    command = [script, out, '--work-dir', args.work_dir, *rest]
    print(f'backbone {args.backbone} set at: {", ".join(paths)}')
    print('mmdet: python ' + ' '.join(command), flush=True)
    if args.dry_run:
        return out
    import bsim_plugin  # noqa: F401  (StrictPretrained)
    sys.argv = command
    runpy.run_path(script, run_name='__main__')


if __name__ == '__main__':
    main()
