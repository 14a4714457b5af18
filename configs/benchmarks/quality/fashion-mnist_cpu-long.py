# The long CPU quality protocol (issue 20): fewer distinct images for many
# more epochs, where the bases plateau and regularisers of the positive set
# can show. Each method and its base: the CPU recipe (ImageNet-stem grey
# ResNet-18, 28 px, batch 128, the recipe's augmentations and per-base
# learning rates) at width 32 (`base_channels`, necks fed 256 channels) on
# the first 10,000 training images (942-1,027 per class), 3 seeds; weighted
# kNN top-1 (k=200, T=0.1), whole train split as the bank, whole test split
# as the queries, and a cheap kNN curve (10,000-image bank, 2,000 queries)
# every tenth of the schedule.
#
# The regime (tools/benchmarks/quality.py try --protocol THIS_FILE; the
# runs are in configs/bsim/README.md's recipe-search table): the starting
# point, SimCLR at width 32 on 10,000 images for 30 epochs, took 5.7 min and
# reached 82.96 % (2026-12-01, as the issue reports; not reproduced). On
# this machine SimCLR trained 18.8 s an epoch, steadily over the whole run
# (0.23 s an iteration, 0.07 s of it waiting for data), so 60
# epochs took 18.8 min, over the 15-minute budget; its curve was flat from
# epoch 30 of 60 (81.70 % at 30 and at 60, +0.45 over the last quarter) and
# it ended at 83.87 % (whole-split kNN). Hence 40 epochs: about 13 min of
# SimCLR training. The first MoCo v2 rows are the check that MoCo's curve
# flattens too (the criterion: less than 0.5 points over the last quarter).
#   python tools/benchmarks/quality.py run configs/benchmarks/quality/fashion-mnist_cpu-long.py
# SePP's pairs come from this protocol's own MoCo v2 seed-0 checkpoint (1
# neighbour per image): `run` mines them before the first SePP run when the
# pairs file is missing, from that run's final checkpoint in the work dir,
# training it again first if it is not there (quality_tool/pairs.py).
_recipe = 'configs/bsim/{}_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'
_pairs = 'work_dirs/sepp/fashion-mnist-10k_k1_long-mocov2.npz'
_images = 10000
_epochs = 40
_width = 32
_iters_per_epoch = _images // 128  # the recipe's batch, last one dropped
# Each base's learning rate from the 2-epoch sweep of 2026-12-02 (batch
# 128); BSIM, SANE, InterCLR and SePP run their base's.
_lr = dict(simclr=0.05, mocov2=0.2, simsiam=0.2, byol=0.1)
# The bases a method is compared with where its base has an equal-time row.
_compared = dict(mocov2=['mocov2', 'mocov2-53e'],
                 simclr=['simclr', 'simclr-65e'],
                 simsiam=['simsiam', 'simsiam-47e'])


def _long(lr, epochs=_epochs, dataset='train_dataloader.dataset', **extra):
    options = {
        'model.backbone.base_channels': _width,
        'model.neck.in_channels': 8 * _width,
        f'{dataset}.indices': _images,
        'optim_wrapper.optimizer.lr': lr,
        'train_cfg.max_epochs': epochs,
        'param_scheduler.1.end': epochs,
        'param_scheduler.1.T_max': epochs,
        # A resumable checkpoint every tenth of the schedule.
        'default_hooks.checkpoint.interval': max(1, epochs // 10),
    }
    options.update(extra)
    return options


def _entry(name, method, config, base=None, budget=None, pairs=None,
           **options):
    family = ([base] if isinstance(base, str) else base or [name])[0]
    entry = dict(name=name, method=method,
                 budget=budget or f'{_epochs} epochs', config=config,
                 base=base, cfg_options=_long(_lr[family], **options))
    if pairs:
        entry['pairs'] = pairs
    return entry


def _equal_time(base, method, epochs, ratio, of):
    # The base trained for the whole number of epochs that takes at least
    # its method's time (the ratio of the mean training times of their
    # 40-epoch runs on this protocol); compared with the base's 40 epochs
    # too, so its row also says what more epochs alone give the base.
    return dict(
        _entry(f'{base}-{epochs}e', method, _recipe.format(base), base=base,
               budget=f"{epochs} epochs >= {of}'s time ({ratio}x)",
               epochs=epochs),
        epoch_scale=1)


def _option(base, method, label, options):
    # A BSIM default within the spread of its base brings in one documented
    # option (issue 20): the one that did best on that base on seed 0 of
    # the 2-epoch option search (configs/bsim/README.md, runs 15-23), on
    # every seed. BSIM's rows are its bases'.
    slug = label.replace('bsim_', '').replace(' ', '')
    bsim = f'bsim-{base}'
    return _entry(f'{bsim}-{slug}', f'BSIM-{method}, {label}',
                  _recipe.format(bsim), base=_compared.get(base, base),
                  **options)


def _sepp(base, method):
    # An epoch of pairs serves 10,000 images + 10,000 pairs (k=1): SePP runs
    # half the epochs, so it takes its base's steps.
    return _entry(
        f'sepp-{base}', method,
        f'configs/sepp/sepp-{base}_resnet18_1xb128-coslr-2e_fashion-mnist-'
        'cpu.py', base=base,
        budget=(f'{_epochs // 2} epochs of {_images:,} images + {_images:,} '
                f'pairs (= {_epochs} epochs of steps), plus the miner: '
                f'MoCo v2, {_epochs} epochs'),
        epochs=_epochs // 2, dataset='train_dataloader.dataset.dataset',
        pairs=dict(entry='mocov2', seed=0, k=1),
        **{'train_dataloader.dataset.pairs_file': _pairs})


# InterCLR scaled from the official ImageNet settings (1.28 M images,
# 10,000 clusters, 16,384 negatives from the 128,000 most similar,
# centroids every 10 iterations, no warm-up) by the memory's size: about
# 128 images a cluster (80 clusters), the negatives and their pool as the
# same shares of the memory (1.3 % and 10 %: 128 from 1,024), and the
# centroids recomputed every iteration (a batch rewrites 1.3 % of this
# memory, 0.02 % of ImageNet's: 10 official iterations rewrite less than
# one here).
_interclr = ('configs/interclr/interclr-mocov2_resnet18_1xb128-coslr-2e_'
             'fashion-mnist-cpu.py')
_interclr_options = {
    'model.memory.length': _images,
    'model.memory.num_clusters': 80,
    'model.num_negatives': 128,
    'model.negative_pool': 1024,
    'model.centroid_interval': 1,
    'model.warmup_iters': 0,
}

protocol = dict(
    name='fashion-mnist-cpu-long',
    title=(f'Fashion-MNIST, long CPU protocol: ResNet-18 at width {_width}, '
           f'{_images:,} images, {_epochs} epochs, batch 128'),
    dataset=dict(type='FashionMNIST', data_root='data/fashion_mnist'),
    knn=dict(k=200, temperature=0.1),
    curve=dict(interval=max(1, _epochs // 10), bank=10000, queries=2000),
    # Beside the kNN: a linear probe on the same frozen features (whole
    # train split -> test split; linear_probe.py's classifier).
    linear=dict(weight_decay=1e-4, max_iter=300),
    seeds=[0, 1, 2],
    entries=[
        _entry('mocov2', 'MoCo v2', _recipe.format('mocov2')),
        # SANE's 40-epoch runs trained 17.50 min, MoCo v2's 13.22 min (the
        # mean of 3 seeds, 2026-12-02/03); BSIM-MoCo v2's 17.35 min.
        _equal_time('mocov2', 'MoCo v2', 53, 1.32, 'SANE'),
        _entry('bsim-mocov2', 'BSIM-MoCo v2', _recipe.format('bsim-mocov2'),
               base=_compared['mocov2']),
        # Within MoCo v2's spread at equal epochs (-0.66, 3 seeds).
        _option('mocov2', 'MoCo v2', 'alpha 0.4',
                {'data_preprocessor.mixer.alpha': 0.4}),
        _entry('sane', 'SANE',
               'configs/sane/sane_resnet18_1xb128-coslr-2e_fashion-mnist-'
               'cpu.py', base=_compared['mocov2']),
        _entry('interclr-mocov2', 'InterCLR (MoCo v2)', _interclr,
               base='mocov2', **_interclr_options),
        # Its seed 2 collapsed (in eval mode every embedding is one vector;
        # the loss sat at a constant projection's, 0.75 ln(4097) + 0.25
        # ln(1 + 128 e^-2.5)). The suspect was the semi-hard negatives: in
        # training, before the collapse, they scored closer to a query than
        # its random same-cluster positive. This entry, with the paper's
        # random negatives, was the test: its seed 2 dipped to chance at
        # the same epochs (configs/interclr/README.md has the diagnosis).
        _entry('interclr-mocov2-random',
               'InterCLR (MoCo v2), random negatives', _interclr,
               base='mocov2',
               **dict(_interclr_options,
                      **{'model.negative_strategy': 'random'})),
        # The next suspect: both seed-2 runs dipped to chance at epoch 8,
        # with the inter branch on from the first step. This one trains the
        # intra branch alone (MoCo v2) for the first quarter (10 epochs,
        # 780 iterations; the memory is written and re-labelled all along),
        # then both branches, as the seed-2 test of that suspect.
        _entry('interclr-mocov2-warmup',
               'InterCLR (MoCo v2), 10-epoch intra-only warm-up', _interclr,
               base='mocov2',
               **dict(_interclr_options,
                      **{'model.warmup_iters': 10 * _iters_per_epoch})),
        _sepp('mocov2', 'SePP-MoCo v2'),
        _entry('simclr', 'SimCLR', _recipe.format('simclr')),
        # BSIM-SimCLR's 40-epoch runs trained 27.85 min (3 seeds), SimCLR's
        # 17.31 min (seeds 0 and 1; its seed 2 shared the cores with a
        # README report for 5 minutes), 2026-12-03: 1.61x.
        _equal_time('simclr', 'SimCLR', 65, 1.61, 'BSIM-SimCLR'),
        _entry('bsim-simclr', 'BSIM-SimCLR', _recipe.format('bsim-simclr'),
               base=_compared['simclr']),
        _entry('byol', 'BYOL', _recipe.format('byol')),
        _entry('bsim-byol', 'BSIM-BYOL', _recipe.format('bsim-byol'),
               base='byol'),
        # Within BYOL's spread (-0.71, 3 seeds, 2026-12-03).
        _option('byol', 'BYOL', 'bsim_weight 0.5', {'model.bsim_weight': 0.5}),
        _entry('simsiam', 'SimSiam', _recipe.format('simsiam')),
        # BSIM-SimSiam's 40-epoch runs trained 14.15 min, SimSiam's 12.05
        # min (3 seeds each, 2026-12-03): 1.17x. Its cutmix option, ahead
        # at equal epochs, trained 13.11 min (1.09x; one of its seeds ran
        # 20 % faster than the others), so this row gives SimSiam the
        # longer of the two times.
        _equal_time('simsiam', 'SimSiam', 47, 1.17, 'BSIM-SimSiam'),
        _entry('bsim-simsiam', 'BSIM-SimSiam',
               _recipe.format('bsim-simsiam'), base=_compared['simsiam']),
        # Within SimSiam's spread (-0.05, 3 seeds, 2026-12-03).
        _option('simsiam', 'SimSiam', 'cutmix',
                {'data_preprocessor.mixer.mode': 'cutmix'}),
        _sepp('simsiam', 'SePP-SimSiam'),
    ])
