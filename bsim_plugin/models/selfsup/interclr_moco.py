from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.dist import all_gather
from mmengine.model import ExponentialMovingAverage
from mmpretrain.models.selfsup import MoCo
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...utils.validation import check_int, check_number
from ..memories import (PseudoLabelMemory, label_index, memory_logits,
                        sample_negatives, sample_positives)
from .embedding_predict import EmbeddingPredictMixin
from .init_checks import checked_progress, require_soft_target_head
from .moco_keys import MoCoKeysMixin


@MODELS.register_module()
class InterCLRMoCo(EmbeddingPredictMixin, MoCoKeysMixin, MoCo):
    r"""InterCLR on MoCo v2: intra-image (queue) and inter-image (memory)
    branches.

    `Delving into Inter-Image Invariance for Unsupervised Visual
    Representations <https://arxiv.org/abs/2008.11702>`_ (IJCV 2022), on
    mmpretrain's :class:`~mmpretrain.models.MoCo` (momentum encoder, queue
    and ``_dequeue_and_enqueue`` are MoCo's own).

    * Intra branch: MoCo v2's loss, the query against its key and the
      queue (``head``).
    * Inter branch: the query against a :class:`PseudoLabelMemory` of the
      whole data set: a positive drawn uniformly from the entries with the
      query's pseudo-label and ``num_negatives`` negatives of other labels
      by ``negative_strategy`` (:func:`sample_negatives`), scored by
      ``inter_head`` (:meth:`SoftTargetContrastiveHead.loss_per_positive`,
      whose margin is applied to the positive: a cosine margin of -0.5 is
      InterCLR's lenient boundary).
    * Loss ``intra_weight * L_intra + inter_weight * L_inter``; for the
      first ``warmup_iters`` iterations the weights are 1 / 0 and the inter
      branch is not computed.
    * After the losses (computed against the state before this step): the
      clean keys are enqueued, written into the memory by dataset index and
      re-labelled; the centroids are recomputed every
      ``centroid_interval`` iterations and small clusters dissolved every
      iteration. The iteration is ``train_progress[0]``, which
      :class:`TrainProgressHook` sets from the runner before every
      iteration, so a resumed run keeps the schedule.

    The memory must be filled before training: :class:`InterCLRMemoryHook`
    does it (features of the whole data set + k-means) unless a checkpoint
    already holds it.

    The inter branch shares the projection neck unless ``inter_neck`` is
    given: then the inter queries come from that neck and the memory holds
    the keys of its momentum copy (``inter_neck_k``, updated with the
    momentum encoder), both on the same backbone features as the intra
    branch.

    Args:
        backbone, neck (dict): encoder configs.
        head (dict): intra-branch :class:`SoftTargetContrastiveHead`.
        inter_head (dict): inter-branch :class:`SoftTargetContrastiveHead`.
        memory (dict): :class:`PseudoLabelMemory` arguments (``length``,
            ``num_clusters``, ``momentum``, ``min_cluster``); the feature
            dimension is ``feat_dim``.
        inter_neck (dict, optional): a separate projection neck for the
            inter branch (its output must be ``feat_dim`` wide). Defaults
            to None: the branches share ``neck``.
        queue_len (int): MoCo's queue. Defaults to 65536.
        feat_dim (int): key dimension. Defaults to 128.
        momentum (float): momentum encoder update (``1 - m``). Defaults to
            0.001.
        num_negatives (int): inter-branch negatives. Defaults to 16384.
        negative_strategy (str): ``random``, ``hard``, ``semihard`` or
            ``semieasy``. Defaults to ``'semihard'``.
        negative_pool (int): ``P`` for semihard / semieasy. Defaults to
            128000.
        intra_weight, inter_weight (float): loss weights. Defaults to 0.75
            and 0.25.
        warmup_iters (int): iterations with the inter branch off.
            Defaults to 0.
        centroid_interval (int): iterations between centroid updates.
            Defaults to 10.
        label_update (str): ``'online'`` (re-label written entries, keep
            the clusters up every iteration) or ``'offline'`` (keep the
            labels; ``InterCLRMemoryHook(offline_interval=N)`` re-clusters
            the whole memory every ``N`` epochs). Defaults to
            ``'online'``.
        pretrained, data_preprocessor, init_cfg: as mmpretrain's MoCo.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 inter_head: dict,
                 memory: dict,
                 inter_neck: Optional[dict] = None,
                 queue_len: int = 65536,
                 feat_dim: int = 128,
                 momentum: float = 0.001,
                 num_negatives: int = 16384,
                 negative_strategy: str = 'semihard',
                 negative_pool: int = 128000,
                 intra_weight: float = 0.75,
                 inter_weight: float = 0.25,
                 warmup_iters: int = 0,
                 centroid_interval: int = 10,
                 label_update: str = 'online',
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        name = type(self).__name__
        if label_update not in ('online', 'offline'):
            raise ValueError(f"{name}: label_update must be 'online' or "
                             f"'offline', got label_update={label_update!r}")
        check_int(name, 'centroid_interval', centroid_interval)
        check_int(name, 'queue_len', queue_len)
        check_int(name, 'warmup_iters', warmup_iters, ge=0)
        self.intra_weight = check_number(name, 'intra_weight', intra_weight,
                                         ge=0)
        self.inter_weight = check_number(name, 'inter_weight', inter_weight,
                                         ge=0)
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            queue_len=queue_len,
            feat_dim=feat_dim,
            momentum=momentum,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.inter_head = MODELS.build(inter_head)
        require_soft_target_head(self, 'head', 'inter_head')
        self.inter_neck = None
        if inter_neck is not None:
            width = inter_neck.get('out_channels', feat_dim)
            if width != feat_dim:
                raise ValueError(
                    f'{name}: inter_neck.out_channels={width} must equal '
                    f'feat_dim={feat_dim} (the width of the memory)')
            self.inter_neck = MODELS.build(inter_neck)
            self.inter_neck_k = ExponentialMovingAverage(
                self.inter_neck, momentum)
        self.memory = PseudoLabelMemory(feat_dim=feat_dim, **memory)
        self.negative_pool = self.memory.check_sampling(
            name, num_negatives, negative_strategy, negative_pool)
        self.num_negatives = num_negatives
        self.negative_strategy = negative_strategy
        self.warmup_iters = warmup_iters
        self.centroid_interval = centroid_interval
        self.label_update = label_update
        self.last_inter = None  # (positive, negatives) of the last step
        self.train_progress = None  # (iter, max_iters): TrainProgressHook

    @torch.no_grad()
    def update_momentum_encoder(self) -> None:
        super().update_momentum_encoder()
        if self.inter_neck is not None:
            self.inter_neck_k.update_parameters(self.inter_neck)

    @torch.no_grad()
    def memory_keys(self, images: torch.Tensor) -> torch.Tensor:
        """What the memory stores for ``images``: the L2-normalised keys of
        the momentum encoder (through ``inter_neck_k`` when the inter neck
        is separate). Used to fill the memory before training."""
        if self.inter_neck is None:
            keys = self.encoder_k(images)[0]
        else:
            keys = self.inter_neck_k(self.encoder_k.module[0](images))[0]
        return F.normalize(keys, dim=1)

    def current_iter(self) -> int:
        return checked_progress(self)[0]

    def loss(self, inputs: List[torch.Tensor],
             data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """``loss_intra`` and (after the warm-up) ``loss_inter``, weighted.

        Args:
            inputs (List[Tensor]): ``[query view, key view]``.
            data_samples (List[DataSample]): carry ``sample_idx``, the
                dataset index of each sample (mmengine data sets add it).
        """
        idx = self.dataset_indices(data_samples, inputs[0].device)
        self.check_queue_fits(inputs[0].size(0))
        self.update_momentum_encoder()
        if self.inter_neck is None:
            q = q_inter = self.query(inputs[0])
            k = k_inter = self.encode_keys(inputs[1])
        else:
            q, q_inter = self.query(inputs[0], self.inter_neck)
            k, k_inter = self.encode_keys(inputs[1], self.inter_neck_k)
        it = self.current_iter()
        warm = it < self.warmup_iters
        intra_w, inter_w = (1.0, 0.0) if warm else (self.intra_weight,
                                                    self.inter_weight)
        losses = dict(loss_intra=intra_w * self.head.loss_per_positive(
            (q * k).sum(1), q @ self.queue.clone().detach()))
        # This step's entries and keys from every process: the memory
        # rows written after the losses (gathered once, used by both).
        written = torch.cat(all_gather(idx))
        written_keys = torch.cat(all_gather(k_inter))
        if inter_w > 0:
            losses['loss_inter'] = inter_w * self.inter_loss(
                q_inter, idx, written)
        elif self.inter_neck is not None:
            # Warm-up: the separate inter neck takes part with a zero
            # gradient, so that DDP finds every parameter used.
            losses['loss_inter'] = 0.0 * q_inter.sum()
        # The state moves after the losses: queue, memory, clusters.
        self._dequeue_and_enqueue(k)
        self.update_memory(written, written_keys, it)
        return losses

    def dataset_indices(self, data_samples: List[DataSample],
                        device: torch.device) -> torch.Tensor:
        """``(n,)`` dataset index of each sample, once the memory is
        filled; clear errors otherwise."""
        name = type(self).__name__
        if not bool(self.memory.initialized):
            raise RuntimeError(
                f'{name}: the memory is empty; add '
                "dict(type='InterCLRMemoryHook') to custom_hooks (it fills "
                'it before training), or resume from a checkpoint')
        if not data_samples or 'sample_idx' not in data_samples[0]:
            raise ValueError(f'{name} needs the dataset index of each '
                             'sample (sample_idx, packed by PackInputs)')
        return torch.tensor([int(s.sample_idx) for s in data_samples],
                            device=device)

    def inter_loss(self, q_inter: torch.Tensor, idx: torch.Tensor,
                   written: torch.Tensor) -> torch.Tensor:
        """The inter branch (unweighted): each query against a positive of
        its pseudo-label and ``num_negatives`` negatives of other labels,
        drawn from the memory as it is before this step's write.

        Args:
            q_inter (Tensor): ``(n, D)`` inter queries.
            idx (Tensor): ``(n,)`` their dataset indices.
            written (Tensor): the global indices this step writes; the
                gradient takes those rows as they are now.
        """
        memory = self.memory
        labels = memory.labels[idx]
        with torch.no_grad():
            sims = q_inter.detach() @ memory.feats.t()
            index = label_index(memory.labels, memory.num_clusters)
            pos = sample_positives(labels, memory.labels, index=index)
            neg = sample_negatives(sims, labels, memory.labels,
                                   self.num_negatives, self.negative_strategy,
                                   self.negative_pool, index=index)
        self.last_inter = (pos, neg)
        # The logits come from sims; their gradient is a weighted sum of the
        # drawn rows.
        drawn = torch.cat([pos[:, None], neg], dim=1)
        logits = memory_logits(q_inter, sims, drawn, memory.feats, written,
                               memory.feats[written].clone())
        return self.inter_head.loss_per_positive(logits[:, :1], logits[:, 1:])

    @torch.no_grad()
    def update_memory(self, written: torch.Tensor, keys: torch.Tensor,
                      it: int) -> None:
        """The memory's upkeep after the losses: write the step's keys
        (gathered from every process) and, with online labels, re-label
        them, recompute the centroids every ``centroid_interval``
        iterations and dissolve small clusters."""
        online = self.label_update == 'online'
        self.memory.update(written, keys, gather=False, relabel=online)
        if online:
            if (it + 1) % self.centroid_interval == 0:
                self.memory.recompute_centroids()
            self.memory.dissolve_small_clusters()
