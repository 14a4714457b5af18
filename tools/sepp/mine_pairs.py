"""Mine semantic positive pairs (SePP-ID) with a pre-trained checkpoint.

    python tools/sepp/mine_pairs.py CONFIG CHECKPOINT --out PAIRS.npz \
        [--k 5] [--threshold 0.9] [--mutual] [--source online|momentum] \
        [--backend auto|faiss|torch] [--device cpu] [--batch-size 256]

CONFIG names the model (its backbone and data preprocessor) and the data set
to mine: its ``train_dataloader.dataset`` (a ``SemanticPairDataset`` or
``MixturePairDataset`` wrapper is looked through). Every image is embedded
without augmentation (the config's ``test_pipeline``; for images read from
files without one, resize to ``--resize`` and centre-crop to ``--crop``)
with the checkpoint's backbone (pooled, L2-normalised last-stage features,
as the kNN evaluation), each image's ``k`` nearest other images by cosine
similarity are found (faiss when installed, else a chunked torch search whose
similarity blocks stay under ``--max-mib``), and the pairs ``(i, j)`` with
``sim >= threshold`` (and, with ``--mutual``, ``i`` among ``j``'s
neighbours too) are written with the settings, the checkpoint's SHA-256 and
the data set's length and fingerprint. The report (pairs, images covered,
purity when the data set has labels, time, peak memory) is printed and
stored in the file. With ``--record FILE`` (e.g.
``tools/benchmarks/results/sepp_mining.jsonl``) the run is also appended
to FILE as one JSON line (report, options, data set, checkpoint, date,
machine, ``--note`` and ``--checkpoint-note``), from which
``tools/benchmarks/quality.py report`` writes the mining table of
configs/sepp/README.md.
"""
import argparse
import hashlib
import json
import os
import os.path as osp
import resource
import sys
import tempfile
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import default_collate
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar
from mmpretrain.registry import DATASETS, MODELS

import bsim_plugin  # noqa: F401  (registers the components)
from bsim_plugin.apis import (prepare_config_data,
                              silence_pkg_resources_warning)
from bsim_plugin.datasets import (dataset_fingerprint, pairs_report,
                                  save_pairs, select_pairs)
from bsim_plugin.utils.backbone_export import (SOURCES, ExportError,
                                               backbone_state,
                                               load_checkpoint_state)
from bsim_plugin.utils.neighbours import (BACKENDS, cosine_topk,
                                         faiss_available)
from bsim_plugin.utils.strict_load import StateMismatch, load_strictly

WRAPPERS = ('SemanticPairDataset', 'MixturePairDataset')
BENCHMARKS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                      'benchmarks')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='names the model (backbone, data '
                        'preprocessor) and the data set to mine '
                        '(train_dataloader.dataset)')
    parser.add_argument('checkpoint', help='a pre-training checkpoint of '
                        'the plugin, or an exported backbone')
    parser.add_argument('--out', required=True,
                        help='the pairs file (.npz); its folder is created '
                        'if missing')
    parser.add_argument('--k', type=int, default=5,
                        help='neighbours per image (default 5)')
    parser.add_argument('--threshold', type=float, default=None,
                        help='keep pairs with cosine >= this (default: all)')
    parser.add_argument('--mutual', action='store_true',
                        help='keep (i, j) only if i is among j\'s k '
                        'neighbours too')
    parser.add_argument('--source', choices=sorted(SOURCES),
                        default='online',
                        help='which backbone of a pre-training checkpoint: '
                        'the online encoder (default) or the momentum / '
                        'target copy')
    parser.add_argument('--backend', choices=BACKENDS, default='auto',
                        help='nearest-neighbour search: faiss, torch, or '
                        'auto (faiss when installed; default)')
    parser.add_argument('--max-mib', type=int, default=256,
                        help='memory of one similarity block (torch search)')
    parser.add_argument('--device', default='cpu',
                        help='where to embed, e.g. cpu or cuda:0 (default '
                        'cpu)')
    parser.add_argument('--batch-size', type=int, default=256,
                        help='images per forward pass (default 256)')
    parser.add_argument('--num-workers', type=int, default=0,
                        help='data loader workers (default 0)')
    parser.add_argument('--resize', type=int, default=256,
                        help='short side for images read from files, when '
                        'the config has no test_pipeline (default 256)')
    parser.add_argument('--crop', type=int, default=224,
                        help='centre crop after --resize (default 224)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--record', metavar='FILE',
                        help='also append the run (report, options, data '
                        'set, checkpoint, date, machine) as one JSON line '
                        'to FILE, e.g. '
                        'tools/benchmarks/results/sepp_mining.jsonl, the '
                        'file of the README\'s mining table')
    parser.add_argument('--note', metavar='TEXT',
                        help='a note stored with --record and printed under '
                        "the README's table (e.g. which checkpoint this is "
                        'and its kNN top-1)')
    parser.add_argument('--checkpoint-note', metavar='TEXT',
                        help='stored with --record: the README\'s mining '
                        'table names the checkpoint by it instead of its '
                        'path (e.g. "MoCo v2, seed 0, 40 epochs, kNN '
                        '80.1 %%")')
    return parser


def parse_args(argv=None):
    return build_parser().parse_args(argv)


def fail(message: str):
    sys.exit(f'error: {message}')


def prepare_output(out: str) -> None:
    """Create the output folder and make sure a file can be written there,
    before any embedding or search."""
    if osp.isdir(out):
        fail(f'--out {out} is a folder; give the pairs file, e.g. '
             f'{osp.join(out, "pairs.npz")}')
    folder = osp.dirname(osp.abspath(out))
    try:
        os.makedirs(folder, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix='.mine_pairs',
                                            delete=True)
        probe.close()
    except OSError as e:
        fail(f'cannot write --out {out}: {e.strerror or e} ({folder})')


def append_record(path: str, meta: dict, args, backend_used: str) -> None:
    """Append the run to the results file ``path`` (``--record``)."""
    if BENCHMARKS not in sys.path:
        sys.path.insert(0, BENCHMARKS)
    from quality_tool.figures_sepp import mining_record
    from quality_tool.records import append_record as append, device, today
    append(path, mining_record(meta, today(), device(args.device),
                               args.max_mib, backend_used, args.note,
                               args.checkpoint_note))


def no_pairs_reason(sims, index, args) -> str:
    """Why no pair was kept, in numbers."""
    n, k = index.shape
    flat = sims.reshape(-1).float()
    words = [f'no pair to write: of the {n * k} neighbour pairs (k={k}, '
             f'{n} images)']
    if args.threshold is not None:
        above = int((flat >= args.threshold).sum())
        top = float(flat.max())
        # Enough digits to show the highest is below the threshold.
        shown = f'{top:.4f}' if round(top, 4) < args.threshold else repr(top)
        words.append(f'{above} reach --threshold {args.threshold:g} (the '
                     f'highest similarity is {shown}, the median '
                     f'{float(flat.median()):.4f})')
    if args.mutual:
        mutual = len(select_pairs(sims, index, None, True)[0])
        words.append(f'{mutual} are mutual neighbours')
    return ', '.join(words) + '; lower --threshold (or drop --mutual, or ' \
        'raise --k)'


def mined_dataset_cfg(cfg: Config) -> dict:
    """The config's training data set, without pair wrappers."""
    node = cfg.train_dataloader.dataset
    while node.get('type') in WRAPPERS:
        node = node.dataset
    return node.to_dict() if hasattr(node, 'to_dict') else dict(node)


def embedding_pipeline(cfg: Config, dataset_cfg: dict, resize: int,
                       crop: int) -> list:
    """A deterministic pipeline: the config's ``test_pipeline``, or (for
    images read from files) resize the short side + centre crop."""
    if cfg.get('test_pipeline'):
        return list(cfg.test_pipeline)
    train = dataset_cfg.get('pipeline') or []
    if train and train[0].get('type') == 'LoadImageFromFile':
        return [
            dict(type='LoadImageFromFile'),
            dict(type='ResizeEdge', scale=resize, edge='short'),
            dict(type='CenterCrop', crop_size=crop),
            dict(type='PackInputs'),
        ]
    return [dict(type='PackInputs')]


def labels_of(dataset):
    """``(N,)`` labels when every sample has one, else ``None``."""
    labels = []
    for idx in range(len(dataset)):
        label = dataset.get_data_info(idx).get('gt_label')
        if label is None or int(label) < 0:
            return None
        labels.append(int(label))
    return torch.tensor(labels)


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


@torch.no_grad()
def embed_dataset(model, dataset, batch_size, num_workers, device):
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        num_workers=num_workers,
        shuffle=False,
        collate_fn=default_collate)
    bar = ProgressBar(len(dataset))
    feats = []
    for batch in loader:
        data = model.data_preprocessor(batch, training=False)
        feats.append(model.embed(data['inputs'].to(device)).float())
        bar.update(len(feats[-1]))
    print(flush=True)
    return torch.cat(feats)


def main(argv=None):
    silence_pkg_resources_warning()
    args = parse_args(argv)
    if args.k < 1:
        fail(f'--k must be >= 1, got {args.k}')
    if args.threshold is not None and not -1 <= args.threshold <= 1:
        fail(f'--threshold is a cosine in [-1, 1], got {args.threshold}')
    prepare_output(args.out)
    if args.record and osp.isdir(args.record):
        fail(f'--record {args.record} is a folder; give the results file, '
             f'e.g. {osp.join(args.record, "sepp_mining.jsonl")}')
    for flag, value in (('--note', args.note),
                        ('--checkpoint-note', args.checkpoint_note)):
        if value and not args.record:
            fail(f'{flag} is stored with --record: give --record FILE too')
    start = time.perf_counter()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    try:
        weights = backbone_state(
            load_checkpoint_state(args.checkpoint), args.source,
            args.checkpoint)
    except ExportError as e:
        fail(str(e))
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    model = revert_sync_batchnorm(MODELS.build(model_cfg))
    try:
        load_strictly(model.backbone, weights,
                      f'{args.checkpoint} does not fit the backbone of '
                      f'{args.config}', model_cfg.get('backbone'))
    except StateMismatch as e:
        fail(str(e))
    model.to(args.device).eval()

    prepare_config_data(cfg)
    ds_cfg = mined_dataset_cfg(cfg)
    pipeline = embedding_pipeline(cfg, ds_cfg, args.resize, args.crop)
    dataset = DATASETS.build(dict(ds_cfg, pipeline=pipeline))
    n = len(dataset)
    if args.k >= n:
        fail(f'--k={args.k} needs more than {args.k} images, the data set '
             f'has {n}')
    print(f'[mine_pairs] embedding {n} images ({ds_cfg.get("type")}) with '
          f'{args.checkpoint} ({args.source} backbone) on {args.device}',
          flush=True)
    feats = embed_dataset(model, dataset, args.batch_size, args.num_workers,
                          args.device)
    embed_s = time.perf_counter() - start
    print(f'[mine_pairs] {args.k} nearest neighbours of each of {n} '
          f'embeddings (dim {feats.size(1)}, backend {args.backend})',
          flush=True)
    t0 = time.perf_counter()
    sims, index = cosine_topk(
        feats, args.k, backend=args.backend,
        max_bytes=args.max_mib * 2**20, progress=True)
    search_s = time.perf_counter() - t0
    pairs, pair_sims = select_pairs(sims.cpu(), index.cpu(), args.threshold,
                                    args.mutual)
    if len(pairs) == 0:
        fail(no_pairs_reason(sims.cpu(), index.cpu(), args))
    report = pairs_report(pairs, n, labels_of(dataset))
    report.update(
        embed_s=round(embed_s, 1),
        search_s=round(search_s, 1),
        total_s=round(time.perf_counter() - start, 1),
        peak_rss_mib=round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    meta = dict(
        k=args.k,
        threshold=args.threshold,
        mutual=args.mutual,
        source=args.source,
        backend=args.backend,
        checkpoint=args.checkpoint,
        checkpoint_sha256=sha256_of(args.checkpoint),
        config=args.config,
        embedding=dict(dim=int(feats.size(1)), pipeline=pipeline),
        dataset=dict(
            length=n,
            fingerprint=dataset_fingerprint(dataset),
            type=ds_cfg.get('type'),
            data_root=ds_cfg.get('data_root'),
            indices=ds_cfg.get('indices')),
        report=report,
        created=time.strftime('%Y-%m-%d %H:%M:%S'))
    save_pairs(args.out, pairs, pair_sims, meta)
    print('[mine_pairs] ' + json.dumps(report))
    print(f'[mine_pairs] wrote {len(pairs)} pairs to {args.out}')
    if args.record:
        backend = args.backend
        if backend == 'auto':  # what cosine_topk chose
            backend = ('faiss' if feats.device.type == 'cpu'
                       and faiss_available() else 'torch')
        append_record(args.record, meta, args, backend)
        print(f'[mine_pairs] recorded the run in {args.record}')
    return meta


if __name__ == '__main__':
    main()
