"""Export the backbone of a pre-training checkpoint for downstream tasks.

    python tools/model_converters/extract_backbone_weights.py \
        work_dirs/bsim-mocov2/epoch_200.pth backbone.pth [--source momentum]

The output holds ``state_dict`` with the keys of a bare ``ResNet``
(mmpretrain's and mmdet's load it strictly) and ``meta`` (where it came
from). Use it as
``backbone.init_cfg=dict(type='StrictPretrained', checkpoint='backbone.pth')``
(no ``prefix``; the plugin's strict loader, which names any key that does
not load). Loading is torch's safe ``weights_only`` loading.

It also prints each stage's health (``bsim_plugin.utils.stage_health``):
how far its weights are from a fresh init and the scale of its blocks' last
norms, with a warning for a stage that looks untrained or switched off
(e.g. res5 of a backbone pre-trained on 28 px images): import such a stage
into a detector and it arrives with its residual branches off.

With ``--record FILE`` (e.g. ``tools/benchmarks/results/transfer_chain.jsonl``)
the tensors kept, the parameters and the tensors dropped per module are
appended to FILE as one JSON line, the conversion step of the README's
transfer chain (``tools/benchmarks/quality.py report`` writes it there).
"""
import argparse
import hashlib
import os
import os.path as osp
import sys
import time

import torch

import bsim_plugin  # noqa: F401  (allow-lists mmengine's checkpoint contents)
from bsim_plugin.utils.backbone_export import (SOURCES, ExportError,
                                               extract_backbone,
                                               load_checkpoint_state,
                                               parameter_count, summary)
from bsim_plugin.utils.stage_health import format_stage_health, stage_health


def sha256(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


STEP = 'conversion (`extract_backbone_weights.py`)'
BENCHMARKS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                      'benchmarks')


def record_conversion(path, args, backbone, dropped, wall_s) -> None:
    """Append the conversion to the results file ``path`` (``--record``)."""
    if BENCHMARKS not in sys.path:
        sys.path.insert(0, BENCHMARKS)
    from quality_tool.records import append_record, device, today
    append_record(path, dict(
        kind='conversion', step=STEP, kept=len(backbone),
        parameters=parameter_count(backbone), dropped=dict(dropped),
        checkpoint=args.checkpoint, output=args.output, source=args.source,
        wall_s=round(wall_s, 1), date=today(), device=device('cpu')))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='pre-training checkpoint')
    parser.add_argument('output', help='backbone-only checkpoint to write')
    parser.add_argument(
        '--source', choices=sorted(SOURCES), default='online',
        help='the online backbone (default) or the momentum / target copy')
    parser.add_argument(
        '--record', metavar='FILE',
        help='append what was kept and dropped as one JSON line to FILE, '
        'e.g. tools/benchmarks/results/transfer_chain.jsonl')
    args = parser.parse_args(argv)
    if not osp.isfile(args.checkpoint):
        parser.error(f'checkpoint not found: {args.checkpoint}')
    if osp.abspath(args.output) == osp.abspath(args.checkpoint):
        parser.error('output must differ from the input checkpoint')
    if args.record and osp.isdir(args.record):
        parser.error(f'--record {args.record} is a folder; give the results '
                     'file')
    start = time.perf_counter()
    try:
        state = load_checkpoint_state(args.checkpoint)
        backbone, dropped = extract_backbone(state, args.source,
                                             args.checkpoint)
    except ExportError as e:
        sys.exit(f'error: {e}')
    meta = dict(
        source_checkpoint=osp.abspath(args.checkpoint),
        source_sha256=sha256(args.checkpoint),
        source=args.source,
        converted_by='bsim_plugin extract_backbone_weights.py')
    os.makedirs(osp.dirname(osp.abspath(args.output)), exist_ok=True)
    torch.save(dict(meta=meta, state_dict=backbone), args.output)
    print(summary(backbone, dropped))
    print(format_stage_health(stage_health(backbone)))
    print(f'wrote {args.output}')
    if args.record:
        record_conversion(args.record, args, backbone, dropped,
                          time.perf_counter() - start)
        print(f'recorded the conversion in {args.record}')


if __name__ == '__main__':
    main()
