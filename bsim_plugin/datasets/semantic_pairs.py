"""Semantic positive pairs (SePP-ID): the pairs file and the data set that
serves them.

``tools/sepp/mine_pairs.py`` embeds a data set with a pre-trained model,
keeps pairs ``(i, j)`` of different images whose embeddings are close, and
writes them with :func:`save_pairs`. :class:`SemanticPairDataset` trains
with them: besides the ordinary items (two views of one image) it serves
semantic items (a view of ``i`` and a view of ``j``), and the base
algorithm's loss is unchanged.

The pairs file is a NumPy ``.npz`` (read with ``allow_pickle=False``):
``pairs`` ``(P, 2)`` int64, ``similarity`` ``(P,)`` float32 and ``meta``, a
JSON string with the settings, the checkpoint's SHA-256, the data set's
length and fingerprint, and the mining report.
"""
import copy
import hashlib
import json
import os.path as osp
from typing import List, Optional, Tuple, Union

import numpy as np
import torch
from mmcv.transforms import Compose
from mmpretrain.registry import DATASETS, TRANSFORMS

PAIRS_FORMAT = 'sepp-pairs/1'


class PairsFileError(ValueError):
    """A pairs file that is malformed or does not match the data set."""


def select_pairs(sims: torch.Tensor,
                 index: torch.Tensor,
                 threshold: Optional[float] = None,
                 mutual: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
    """Directed pairs ``(i, j)`` from each row's nearest neighbours.

    Args:
        sims (Tensor): ``(N, k)`` similarity of row ``i`` to its neighbours.
        index (Tensor): ``(N, k)`` long neighbour indices (self excluded).
        threshold (float, optional): keep pairs with ``sim >= threshold``.
        mutual (bool): keep ``(i, j)`` only if ``i`` is also among ``j``'s
            ``k`` neighbours.

    Returns:
        Tuple[Tensor, Tensor]: ``(P, 2)`` long pairs, ordered by ``i`` then
        neighbour rank, and their ``(P,)`` similarities.
    """
    n, k = index.shape
    rows = torch.arange(n).repeat_interleave(k)
    cols = index.reshape(-1).long()
    s = sims.reshape(-1).float()
    keep = torch.ones_like(s, dtype=torch.bool)
    if threshold is not None:
        keep &= s >= threshold
    if mutual:
        codes = rows * n + cols
        keep &= torch.isin(cols * n + rows, codes)
    return torch.stack([rows[keep], cols[keep]], dim=1), s[keep]


def pairs_report(pairs: torch.Tensor, num_images: int,
                 labels: Optional[torch.Tensor] = None) -> dict:
    """Pairs kept, images covered (in any pair) and, with labels, purity
    (the share of pairs whose two images have the same label)."""
    covered = int(torch.unique(pairs.reshape(-1)).numel()) if len(
        pairs) else 0
    report = dict(
        pairs=int(len(pairs)),
        images=int(num_images),
        images_covered=covered,
        coverage=round(covered / max(num_images, 1), 4))
    if labels is not None and len(pairs):
        same = labels[pairs[:, 0]] == labels[pairs[:, 1]]
        report['purity'] = round(float(same.float().mean()), 4)
    return report


def dataset_fingerprint(dataset) -> str:
    """SHA-256 over what identifies each sample of an mmengine data set, in
    order: the image path relative to the data root, or the decoded image's
    bytes for in-memory data sets (pipelines do not enter)."""
    digest = hashlib.sha256()
    root = getattr(dataset, 'data_root', '') or ''
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        if 'img_path' in info:
            path = info['img_path']
            rel = osp.relpath(path, root) if root and osp.isabs(
                path) == osp.isabs(root) else path
            digest.update(rel.encode())
        elif 'img' in info:
            img = np.ascontiguousarray(info['img'])
            digest.update(str(img.shape).encode())
            digest.update(img.tobytes())
        else:
            raise KeyError(
                'dataset_fingerprint needs img_path or img in the data infos '
                f'of {type(dataset).__name__}, got keys {sorted(info)}')
        digest.update(b'\0')
    return digest.hexdigest()


def save_pairs(path: str, pairs: torch.Tensor, similarity: torch.Tensor,
               meta: dict) -> None:
    """Write a pairs file (see the module docstring)."""
    meta = dict(meta, format=PAIRS_FORMAT)
    with open(path, 'wb') as f:
        np.savez(
            f,
            pairs=pairs.numpy().astype(np.int64),
            similarity=similarity.numpy().astype(np.float32),
            meta=np.array(json.dumps(meta, sort_keys=True)))


def load_pairs(path: str,
               dataset_length: Optional[int] = None,
               fingerprint: Optional[str] = None
               ) -> Tuple[np.ndarray, np.ndarray, dict]:
    """Read and check a pairs file.

    Args:
        path (str): the ``.npz`` written by :func:`save_pairs`.
        dataset_length (int, optional): the data set's length; the file
            must have been mined on a data set of this length.
        fingerprint (str, optional): :func:`dataset_fingerprint` of the data
            set; must equal the file's.

    Returns:
        Tuple[ndarray, ndarray, dict]: pairs ``(P, 2)``, similarities
        ``(P,)`` and the metadata.

    Raises:
        PairsFileError: naming the file and what is wrong.
    """
    if not osp.isfile(path):
        raise PairsFileError(f'pairs file not found: {path} (write it with '
                             'tools/sepp/mine_pairs.py)')
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except Exception as e:  # noqa: BLE001  zip / npy / pickle errors alike
        raise PairsFileError(f'{path} is not a pairs file (.npz from '
                             f'tools/sepp/mine_pairs.py): {e}') from e
    missing = {'pairs', 'similarity', 'meta'} - set(arrays)
    if missing:
        raise PairsFileError(f'{path} is not a pairs file: it lacks '
                             f'{sorted(missing)}')
    try:
        meta = json.loads(str(arrays['meta']))
    except ValueError as e:
        raise PairsFileError(f'{path}: unreadable metadata: {e}') from e
    if meta.get('format') != PAIRS_FORMAT:
        raise PairsFileError(f'{path}: format {meta.get("format")!r}, '
                             f'expected {PAIRS_FORMAT!r}')
    pairs, sims = arrays['pairs'], arrays['similarity']
    if pairs.ndim != 2 or pairs.shape[1:] != (2, ) or \
            not np.issubdtype(pairs.dtype, np.integer):
        raise PairsFileError(f'{path}: pairs must be (P, 2) integers, got '
                             f'{pairs.dtype} {pairs.shape}')
    if sims.shape != (len(pairs), ):
        raise PairsFileError(f'{path}: similarity must be ({len(pairs)},), '
                             f'got {sims.shape}')
    mined_length = meta.get('dataset', {}).get('length')
    if dataset_length is not None and mined_length != dataset_length:
        raise PairsFileError(
            f'{path} was mined on a data set of {mined_length} images, this '
            f'data set has {dataset_length}: mine the pairs again for it')
    if len(pairs) and (pairs.min() < 0 or (
            mined_length is not None and pairs.max() >= mined_length)):
        raise PairsFileError(f'{path}: pair indices outside [0, '
                             f'{mined_length}): {pairs.min()}..{pairs.max()}')
    if len(pairs) and (pairs[:, 0] == pairs[:, 1]).any():
        raise PairsFileError(f'{path}: pairs of an image with itself')
    mined_print = meta.get('dataset', {}).get('fingerprint')
    if fingerprint is not None and mined_print != fingerprint:
        raise PairsFileError(
            f'{path} was mined on other images (fingerprint '
            f'{str(mined_print)[:12]}..., this data set '
            f'{fingerprint[:12]}...): same length, different content or '
            'order; mine the pairs again for it')
    return pairs, sims, meta


@DATASETS.register_module()
class SemanticPairDataset:
    """Ordinary and semantic items for SePP-ID training.

    Items ``0 .. N-1`` are the wrapped data set's (two views of one image).
    The ``S`` items after them are semantic: for a mined pair ``(i, j)``,
    the first view of image ``i`` and the second view of image ``j``, so the
    algorithm (MoCo v2, SimSiam, ... unchanged) treats the two images as a
    positive pair. ``S`` defaults to the number of pairs (every pair once
    per epoch, item ``N + p`` is pair ``p``: the data set
    ``{(i, i)} U pairs``); with ``semantic_share`` it is the number that
    makes that share of the items semantic, each drawing a pair uniformly.

    The wrapped data set is used as it is configured for training: its
    pipeline makes two views (``MultiView``) and may end with
    ``PackInputs`` (as mmpretrain's configs do: the views are taken from
    the packed ``inputs``) or not (then this wrapper's ``pipeline`` packs
    the combined views). The pairs file must have been mined on this data
    set: same length and :func:`dataset_fingerprint` (checked when built,
    before training).

    Args:
        dataset (dict | Dataset): the data set to wrap.
        pairs_file (str): the ``.npz`` from ``tools/sepp/mine_pairs.py``.
        pipeline (List[dict], optional): transforms after the views when
            the wrapped pipeline does not pack them. Defaults to
            ``[dict(type='PackInputs')]``.
        semantic_share (float, optional): share of semantic items in
            ``(0, 1)``; ``None`` serves every pair once. Defaults to None.
        check_fingerprint (bool): compare the data set's fingerprint with
            the file's. Defaults to True.
    """

    def __init__(self,
                 dataset: Union[dict, object],
                 pairs_file: str,
                 pipeline: Optional[List[dict]] = None,
                 semantic_share: Optional[float] = None,
                 check_fingerprint: bool = True) -> None:
        if semantic_share is not None and (
                isinstance(semantic_share, bool)
                or not isinstance(semantic_share, (int, float))
                or not 0 < semantic_share < 1):
            raise ValueError('SemanticPairDataset: semantic_share must be in '
                             '(0, 1) or None, got '
                             f'semantic_share={semantic_share!r}')
        self.dataset = (DATASETS.build(dataset)
                        if isinstance(dataset, dict) else dataset)
        pipeline = [dict(type='PackInputs')] if pipeline is None else pipeline
        self.pipeline = Compose([
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in pipeline
        ])
        n = len(self.dataset)
        self.pairs, self.similarity, self.meta = load_pairs(
            pairs_file, n,
            dataset_fingerprint(self.dataset) if check_fingerprint else None)
        if len(self.pairs) == 0:
            raise PairsFileError(f'{pairs_file} holds no pairs: mine with a '
                                 'lower threshold or a larger k')
        self.pairs_file = pairs_file
        self.semantic_share = semantic_share
        if semantic_share is None:
            self.num_semantic = len(self.pairs)
        else:
            self.num_semantic = max(
                1, int(round(semantic_share * n / (1 - semantic_share))))

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(getattr(self.dataset, 'metainfo', {}))

    def __len__(self) -> int:
        return len(self.dataset) + self.num_semantic

    def pair(self, idx: int) -> Tuple[int, int]:
        """The ``(i, j)`` of semantic item ``idx`` (``idx >= N``)."""
        p = idx - len(self.dataset)
        if self.semantic_share is not None:
            p = int(np.random.randint(len(self.pairs)))
        i, j = self.pairs[p]
        return int(i), int(j)

    def views(self, idx: int) -> Tuple[dict, str]:
        """Sample ``idx`` of the wrapped data set and the key of its views
        (``'inputs'`` when packed, ``'img'`` when not)."""
        results = copy.copy(self.dataset[idx])
        key = 'inputs' if 'inputs' in results else 'img'
        views = results.get(key)
        if not isinstance(views, (list, tuple)) or len(views) < 2:
            raise ValueError(
                'SemanticPairDataset: the wrapped pipeline must make two '
                "views (MultiView, num_views=2), got "
                f'{key}={type(views).__name__}')
        return results, key

    def __getitem__(self, idx: int) -> dict:
        if idx < 0:
            idx += len(self)
        if idx < len(self.dataset):
            results, key = self.views(idx)
        else:
            i, j = self.pair(idx)
            results, key = self.views(i)
            results[key] = [results[key][0], self.views(j)[0][key][1]]
        return results if key == 'inputs' else self.pipeline(results)
