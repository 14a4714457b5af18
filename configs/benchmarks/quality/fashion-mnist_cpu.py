# The CPU quality protocol: each method and its base pre-trained on
# Fashion-MNIST with the same backbone, data, augmentations, optimizer and
# budget, 3 seeds each; weighted kNN top-1 (k=200, T=0.1) on the whole test
# split with the whole train split as the bank. A run takes 4 to 9 minutes
# on 2 CPU cores (the table's wall-time column).
#   python tools/benchmarks/quality.py run configs/benchmarks/quality/fashion-mnist_cpu.py
_bsim = 'configs/bsim/bsim-simclr_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'
_simclr = 'configs/bsim/simclr_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'
_recipe = 'configs/bsim/{}_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'
# Code changes their configs do not show (the fidelity fixes of 2026-12-02):
# BSIM's mixture and SANE's mixed query write no BatchNorm running
# statistics, BSIM-SimCLR scores the mixture against the second views only,
# InterCLR re-labels by the largest dot product with the centroids. Rows of
# these entries measured before carry other digests and leave the table.
_fidelity = 'fidelity-2026-12-02'
_pairs = 'work_dirs/sepp/fashion-mnist-30k_k1_mocov2-splitbn.npz'


def _epochs(n):
    return {
        'train_cfg.max_epochs': n,
        'param_scheduler.1.end': n,
        'param_scheduler.1.T_max': n,
    }


def _pair(base, method, epochs, ratio):
    # The base at 2 epochs (equal epochs) and at the whole number of epochs
    # that takes at least BSIM's 2-epoch time (step-time ratio measured with
    # tools/benchmarks/step_time.py --preset cpu-r18, batch 128).
    return [
        dict(name=base, method=method, budget='2 epochs',
             config=_recipe.format(base)),
        dict(name=f'{base}-{epochs}e', method=method,
             budget=f"{epochs} epochs >= BSIM's time ({ratio}x)",
             config=_recipe.format(base), cfg_options=_epochs(epochs)),
        dict(name=f'bsim-{base}', method=f'BSIM-{method}', budget='2 epochs',
             base=[base, f'{base}-{epochs}e'],
             config=_recipe.format(f'bsim-{base}'), revision=_fidelity),
    ]


def _option(base, method, epochs, label, options):
    # A BSIM option that did better than the default on seed 0 of the
    # recipe search (configs/bsim/README.md), run on every seed: chosen on
    # seed 0, so seeds 1 and 2 are its fair test.
    slug = label.replace('bsim_', '').replace(' ', '')
    return dict(name=f'bsim-{base}-{slug}',
                method=f'BSIM-{method}, {label}', budget='2 epochs',
                base=[base, f'{base}-{epochs}e'],
                config=_recipe.format(f'bsim-{base}'), cfg_options=options,
                revision=_fidelity)


protocol = dict(
    name='fashion-mnist-cpu',
    title='Fashion-MNIST, CPU protocol: ResNet-18, 30,000 images, batch 128',
    dataset=dict(type='FashionMNIST', data_root='data/fashion_mnist'),
    knn=dict(k=200, temperature=0.1),
    seeds=[0, 1, 2],
    entries=[
        dict(name='simclr', method='SimCLR', budget='2 epochs',
             config=_simclr),
        # BSIM encodes 3 views instead of 2: SimCLR with 1.5x the epochs
        # takes about BSIM's wall time.
        dict(name='simclr-3e', method='SimCLR',
             budget="3 epochs = BSIM's time", config=_simclr,
             cfg_options={
                 'train_cfg.max_epochs': 3,
                 'param_scheduler.1.end': 3,
                 'param_scheduler.1.T_max': 3,
             }),
        dict(name='bsim-simclr', method='BSIM-SimCLR', budget='2 epochs',
             base=['simclr', 'simclr-3e'], config=_bsim, revision=_fidelity),
    ] + _pair('mocov2', 'MoCo v2', 4, 1.79) + [
        _option('mocov2', 'MoCo v2', 4, 'alpha 0.4',
                {'data_preprocessor.mixer.alpha': 0.4}),
    ] + _pair('simsiam', 'SimSiam', 3, 1.53) +
    _pair('byol', 'BYOL', 3, 1.41) + [
        _option('byol', 'BYOL', 3, 'bsim_weight 0.5',
                {'model.bsim_weight': 0.5}),
    ] + [
        # SANE encodes one more query with gradient, as BSIM on MoCo v2:
        # its bases are MoCo v2's (2 epochs, and 4 epochs for its time).
        dict(name='sane', method='SANE', budget='2 epochs',
             base=['mocov2', 'mocov2-4e'],
             config='configs/sane/'
             'sane_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py',
             revision=_fidelity),
        # SePP-ID: pairs mined from the MoCo v2 seed-0 checkpoint of this
        # protocol (split BatchNorm since 2026-12-02; the pairs of the
        # earlier plain-BN checkpoint, kNN 71.66 %, purity 74.7 %, were
        # fashion-mnist-30k_k1.npz), 1 neighbour per image: `run` mines
        # them before the first SePP run when the file is missing, as
        #   python tools/sepp/mine_pairs.py CONFIG_OF_mocov2 \
        #       WORK/mocov2/seed0/epoch_2.pth --k 1 \
        #       --out work_dirs/sepp/fashion-mnist-30k_k1_mocov2-splitbn.npz
        # An epoch is then 30,000 ordinary + 30,000 semantic items: twice
        # the base's steps, so the equal-time bases run 4 epochs.
        # Their option only says where the pairs are: `metafile=True` lets
        # their rows fill the config's results in configs/sepp/metafile.yml
        # (entries with other options do not; quality.py report).
        # InterCLR adds no encoder pass (memory sampling and upkeep, and
        # one embedding of the 30,000 images before training).
        dict(name='interclr-mocov2', method='InterCLR (MoCo v2)',
             budget='2 epochs', base=['mocov2', 'mocov2-4e'],
             config='configs/interclr/'
             'interclr-mocov2_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py',
             revision=_fidelity),
        dict(name='simsiam-4e', method='SimSiam',
             budget="4 epochs = SePP's steps", config=_recipe.format(
                 'simsiam'), cfg_options=_epochs(4)),
        dict(name='sepp-mocov2', method='SePP-MoCo v2',
             budget='2 epochs of 30,000 images + 30,000 pairs (= 4 epochs '
             'of steps), plus the miner: MoCo v2, 2 epochs',
             base=['mocov2-4e', 'mocov2'],
             config='configs/sepp/'
             'sepp-mocov2_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py',
             cfg_options={'train_dataloader.dataset.pairs_file':
                          _pairs},
             pairs=dict(entry='mocov2', seed=0, k=1),
             metafile=True),
        dict(name='sepp-simsiam', method='SePP-SimSiam',
             budget='2 epochs of 30,000 images + 30,000 pairs (= 4 epochs '
             'of steps), plus the miner: MoCo v2, 2 epochs',
             base=['simsiam-4e', 'simsiam'],
             config='configs/sepp/'
             'sepp-simsiam_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py',
             cfg_options={'train_dataloader.dataset.pairs_file':
                          _pairs},
             pairs=dict(entry='mocov2', seed=0, k=1),
             metafile=True),
    ])
