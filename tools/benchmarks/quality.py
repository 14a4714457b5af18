"""Representation quality: one fixed protocol for every method and its base.

A protocol is a config file (``configs/benchmarks/quality/*.py``) that names
the data, the kNN settings, the seeds and the entries: each entry is a
pre-training config (method + recipe + budget) and the entry it is compared
with. Every run pre-trains one entry with one seed using mmengine's Runner,
then scores weighted kNN top-1 on the whole test split with the whole train
split as the bank, and appends one JSON line to the results file. Runs
already recorded (same protocol, entry, seed and config digest) are skipped,
so a protocol can be filled over several sittings. References come from the
same code and splits: kNN on raw and on centred pixels, and the untrained
backbone with the initialisation the training starts from.

    python tools/benchmarks/quality.py run configs/benchmarks/quality/fashion-mnist_cpu.py
    python tools/benchmarks/quality.py run PROTOCOL --entries simclr --seeds 0
    python tools/benchmarks/quality.py try CONFIG --seed 0 --label NAME \\
        --cfg-options model.head.temperature=0.5   # recipe search
    python tools/benchmarks/quality.py report      # README table + chart,
                                                   # metafile results

Each run is a subprocess (a clean Runner, its own wall time); progress goes
to the terminal and the full log to ``work_dirs/quality/``.
"""
import argparse
import copy
import datetime
import hashlib
import json
import os
import os.path as osp
import platform
import statistics
import subprocess
import sys
import time
from typing import Dict, Iterable, List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

RESULTS = osp.join(ROOT, 'tools', 'benchmarks', 'results', 'quality.jsonl')
README = osp.join(ROOT, 'README.md')
CHART_DIR = osp.join(ROOT, 'tools', 'benchmarks', 'results')
TABLE_BEGIN = '<!-- quality-table:begin (tools/benchmarks/quality.py report) -->'
TABLE_END = '<!-- quality-table:end -->'
REFERENCES = ('pixels', 'pixels-centred', 'untrained')
REFERENCE_LABELS = {
    'pixels': 'raw pixels',
    'pixels-centred': 'centred pixels (train-split mean removed)',
    'untrained': 'untrained backbone',
}


# ---------------------------------------------------------------- protocols
def load_protocol(path: str) -> dict:
    """Read and check a protocol file; every problem is named."""
    from mmengine.config import Config
    if not osp.isfile(path):
        raise FileNotFoundError(f'protocol file not found: {path}')
    proto = Config.fromfile(path).get('protocol')
    if proto is None:
        raise KeyError(f'{path} defines no `protocol = dict(...)`')
    proto = proto.to_dict()
    for key in ('name', 'dataset', 'entries'):
        if key not in proto:
            raise KeyError(f'protocol {path} lacks "{key}"')
    proto.setdefault('title', proto['name'])
    proto.setdefault('seeds', [0, 1, 2])
    proto.setdefault('knn', dict(k=200, temperature=0.1))
    proto['path'] = osp.relpath(osp.abspath(path), ROOT)
    names = [e.get('name') for e in proto['entries']]
    if len(set(names)) != len(names) or None in names:
        raise ValueError(f'protocol {path}: entry names must be unique and '
                         f'set, got {names}')
    for entry in proto['entries']:
        for key in ('method', 'config'):
            if key not in entry:
                raise KeyError(f'protocol {path}: entry {entry["name"]!r} '
                               f'lacks "{key}"')
        entry.setdefault('cfg_options', {})
        entry.setdefault('budget', '')
        base = entry.get('base')
        bases = [] if base is None else [base] if isinstance(base, str) \
            else list(base)
        for name in bases:
            if name not in names or name == entry['name']:
                raise ValueError(
                    f'protocol {path}: entry {entry["name"]!r} has '
                    f'base={name!r}, which is not another entry')
        entry['bases'] = bases
        cfg_path = _abs(entry['config'])
        if not osp.isfile(cfg_path):
            raise FileNotFoundError(
                f'protocol {path}: entry {entry["name"]!r}: config not found: '
                f'{entry["config"]}')
    return proto


def _abs(path: str) -> str:
    return path if osp.isabs(path) else osp.join(ROOT, path)


def build_config(config: str, cfg_options: Optional[dict] = None):
    """The training config of one run, before seed and work dir are set."""
    from mmengine.config import Config
    cfg = Config.fromfile(_abs(config))
    if cfg_options:
        cfg.merge_from_dict(dict(cfg_options))
    return cfg


def recipe_text(cfg) -> str:
    """The config's text less runtime parts that never change a run's
    numbers, normalised away so that adding them keeps every recorded
    digest: the atomic checkpoint writer (``AtomicCheckpointHook`` is
    mmengine's ``CheckpointHook`` writing atomically) and
    ``TrainProgressHook`` (it hands SANE and InterCLR the schedule position
    they read from mmengine's message hub before)."""
    cfg = copy.deepcopy(cfg)
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint')
    if checkpoint and checkpoint.get('type') == 'AtomicCheckpointHook':
        checkpoint['type'] = 'CheckpointHook'
    if cfg.get('custom_hooks') is not None:
        cfg.custom_hooks = [
            h for h in cfg.custom_hooks if h.get('type') != 'TrainProgressHook'
        ]
    return cfg.pretty_text


def config_digest(cfg, revision: Optional[str] = None) -> str:
    """A short hash of everything that defines a run but its seed
    (:func:`recipe_text`).

    ``revision`` (an entry's ``revision`` key) stands for a change of the
    method's code that its config does not show (a corrected loss, say): a
    new revision makes the entry's earlier records stale, so it runs again.
    """
    text = recipe_text(cfg)
    if revision:
        text += f'\nrevision: {revision}'
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def model_digest(cfg) -> str:
    """A short hash of the model and data preprocessor configs (what the
    untrained reference depends on)."""
    text = json.dumps(
        dict(model=cfg.model.to_dict(),
             data_preprocessor=(cfg.get('data_preprocessor') or {})),
        sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def budget_of(cfg) -> dict:
    dataset = cfg.train_dataloader.dataset
    indices = dataset.get('indices')
    images = indices if isinstance(indices, int) else (
        len(indices) if indices is not None else None)
    return dict(
        epochs=int(cfg.train_cfg.max_epochs),
        train_images=images,
        batch_size=int(cfg.train_dataloader.batch_size))


# ------------------------------------------------------------------ records
def read_records(path: str) -> List[dict]:
    if not osp.isfile(path):
        return []
    records = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f'{path}:{number}: not a JSON record '
                                 f'({exc})') from exc
    return records


def append_record(path: str, record: dict) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'a') as f:
        f.write(json.dumps(record, sort_keys=True) + '\n')
        f.flush()
        os.fsync(f.fileno())


def record_key(record: dict) -> tuple:
    return (record['protocol'], record['entry'], record['seed'],
            record.get('config_digest'))


def _git(*args: str) -> str:
    try:
        return subprocess.run(['git', *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ''


def provenance() -> dict:
    import torch
    if torch.cuda.is_available():
        device = torch.cuda.get_device_name()
    else:
        cpu = platform.processor() or platform.machine()
        try:
            with open('/proc/cpuinfo') as f:
                names = [ln.split(':', 1)[1].strip() for ln in f
                         if ln.startswith('model name')]
            cpu = names[0] if names else cpu
        except OSError:
            pass
        device = f'CPU: {os.cpu_count()} cores ({cpu}), ' \
                 f'{torch.get_num_threads()} threads'
    return dict(
        commit=_git('rev-parse', '--short', 'HEAD') or 'unknown',
        dirty=bool(_git('status', '--porcelain', '--untracked-files=no')),
        date=datetime.date.today().isoformat(),
        device=device,
        torch=torch.__version__.split('+')[0])


# --------------------------------------------------------------- one run
def split_arrays(proto: dict):
    """(bank images, bank labels, query images, query labels): the whole
    train split and the whole test split of the protocol's data set."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import bsim_plugin  # noqa: F401
    from bsim_plugin.apis import prepare_config_data
    from bsim_plugin.evaluation import load_image_arrays
    init_default_scope('mmpretrain')
    dataset = dict(proto['dataset'])
    prepare_config_data(Config(dict(test_dataloader=dict(dataset=dataset))))
    return (*load_image_arrays(dict(dataset, split='train', test_mode=False)),
            *load_image_arrays(dict(dataset, split='test', test_mode=True)))


def score_model(model, proto: dict, progress: bool = True, arrays=None):
    """kNN top-1 of a model's embeddings; also the bank and query sizes."""
    import torch

    from bsim_plugin.evaluation import extract_embeddings, knn_top1
    bank, bank_y, query, query_y = arrays or split_arrays(proto)
    if progress:
        print(f'[quality] embedding {len(bank)} bank + {len(query)} query '
              'images', flush=True)
    feats = extract_embeddings(model, torch.cat([bank, query]),
                               progress=progress)
    return knn_top1(feats[:len(bank)], bank_y, feats[len(bank):], query_y,
                    **proto['knn']), len(bank), len(query)


def run_entry(proto: dict, entry: dict, seed: int, work_root: str,
              progress: bool = True) -> dict:
    """Pre-train one entry with one seed and score it; returns the record."""
    from mmengine.runner import Runner

    import bsim_plugin  # noqa: F401
    from bsim_plugin.apis import prepare_config_data
    start = time.time()
    cfg = build_config(entry['config'], entry['cfg_options'])
    digest = config_digest(cfg, entry.get('revision'))
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = osp.join(work_root, proto['name'], entry['name'],
                            f'seed{seed}')
    cfg.launcher = 'none'
    cfg.experiment_name = f'{entry["name"]}_seed{seed}_{int(start)}'
    # Train only: the protocol's own kNN (whole train split as the bank)
    # replaces the config's periodic validation.
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.custom_hooks = [
        h for h in cfg.get('custom_hooks', [])
        if h.get('type') != 'InitialValidationHook'
    ]
    prepare_config_data(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    train_s = time.time() - start
    acc, bank, queries = score_model(runner.model, proto, progress)
    return dict(
        protocol=proto['name'],
        entry=entry['name'],
        method=entry['method'],
        config=entry['config'],
        cfg_options=entry['cfg_options'],
        config_digest=digest,
        seed=seed,
        **budget_of(cfg),
        train_s=round(train_s, 1),
        wall_s=round(time.time() - start, 1),
        knn_top1=round(acc, 2),
        bank=bank,
        queries=queries,
        **proto['knn'],
        **provenance())


def run_reference(proto: dict, name: str, seed: int) -> dict:
    """One reference figure, by the same kNN code on the same splits."""
    import torch

    from bsim_plugin.evaluation import knn_top1, pixel_embeddings
    start = time.time()
    arrays = split_arrays(proto)
    bank, bank_y, query, query_y = arrays
    extra = dict(config_digest=None)
    if name == 'untrained':
        from mmengine.registry import init_default_scope
        from mmpretrain.registry import MODELS
        init_default_scope('mmpretrain')
        entry = proto['entries'][0]
        cfg = build_config(entry['config'], entry['cfg_options'])
        torch.manual_seed(seed)
        model_cfg = dict(cfg.model)
        model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
        model = MODELS.build(model_cfg)
        model.init_weights()
        acc = score_model(model, proto, arrays=arrays)[0]
        backbone = cfg.model.backbone
        extra.update(
            config=entry['config'],
            config_digest=model_digest(cfg),
            init=('mmpretrain init_weights (kaiming conv, BN weight 1'
                  + (', zero_init_residual' if backbone.get(
                      'zero_init_residual', True) else '') + ')'))
    else:
        mean = bank.float().mean(0) if name == 'pixels-centred' else None
        acc = knn_top1(pixel_embeddings(bank, mean), bank_y,
                       pixel_embeddings(query, mean), query_y, **proto['knn'])
    return dict(
        protocol=proto['name'],
        entry=name,
        method=REFERENCE_LABELS[name],
        seed=seed if name == 'untrained' else 0,
        knn_top1=round(acc, 2),
        bank=len(bank),
        queries=len(query),
        wall_s=round(time.time() - start, 1),
        **extra,
        **proto['knn'],
        **provenance())


def _child(args) -> None:
    """One run in this process; prints the record as the last line."""
    proto = load_protocol(args.protocol)
    if args.entry in REFERENCES:
        record = run_reference(proto, args.entry, args.seed)
    else:
        entry = _entry(proto, args.entry)
        record = run_entry(proto, entry, args.seed, args.work_root)
    print('QUALITY-RECORD ' + json.dumps(record), flush=True)


def _entry(proto: dict, name: str) -> dict:
    for entry in proto['entries']:
        if entry['name'] == name:
            return entry
    raise KeyError(f'protocol {proto["name"]} has no entry {name!r}; it has '
                   f'{[e["name"] for e in proto["entries"]]}')


def _spawn(protocol_path: str, entry: str, seed: int, work_root: str,
           log_path: str) -> dict:
    cmd = [sys.executable, osp.abspath(__file__), '_child', protocol_path,
           '--entry', entry, '--seed', str(seed), '--work-root', work_root]
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    record = None
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            log.write(line)
            if line.startswith('QUALITY-RECORD '):
                record = json.loads(line[len('QUALITY-RECORD '):])
            elif _worth_showing(line):
                print('    ' + line.rstrip()[-150:], flush=True)
        proc.wait()
    if proc.returncode != 0 or record is None:
        raise RuntimeError(f'run {entry} seed {seed} failed (exit '
                           f'{proc.returncode}); log: {log_path}')
    return record


def _worth_showing(line: str) -> bool:
    return ('Epoch(train)' in line and 'loss' in line) or '[quality]' in line


def expected_key(proto: dict, name: str, seed: int, digests: Dict) -> tuple:
    if name in ('pixels', 'pixels-centred'):
        seed = 0  # no randomness
    return (proto['name'], name, seed, digests.get(name))


def entry_digests(proto: dict) -> Dict[str, Optional[str]]:
    """The config digest each record of a protocol must carry: entries the
    digest of their config, the untrained reference that of the first
    entry's model, the pixel references none."""
    import bsim_plugin  # noqa: F401 (custom_imports in configs)
    digests = {}
    for e in proto['entries']:
        cfg = build_config(e['config'], e['cfg_options'])
        digests[e['name']] = config_digest(cfg, e.get('revision'))
        digests.setdefault('untrained', model_digest(cfg))
    return digests


def run_protocol(protocol_path: str,
                 entries: Optional[Iterable[str]] = None,
                 seeds: Optional[Iterable[int]] = None,
                 results: str = RESULTS,
                 work_root: str = 'work_dirs/quality',
                 references: bool = True) -> List[dict]:
    """Run every missing (entry, seed) of a protocol; returns new records."""
    proto = load_protocol(protocol_path)
    seeds = list(proto['seeds'] if seeds is None else seeds)
    names = [e['name'] for e in proto['entries']]
    if entries is not None:
        entries = list(entries)
        unknown = [n for n in entries if n not in names + list(REFERENCES)]
        if unknown:
            raise KeyError(f'unknown entries {unknown}; protocol '
                           f'{proto["name"]} has {names} and the references '
                           f'{list(REFERENCES)}')
        names = entries
    elif references:
        names = list(REFERENCES) + names
    digests = entry_digests(proto)
    done = {record_key(r) for r in read_records(results)}
    # References first, then seed by seed, so that a protocol stopped
    # half-way leaves every entry with the same seeds.
    order = [(n, s) for n in names if n in REFERENCES for s in seeds] + [
        (n, s) for s in seeds for n in names if n not in REFERENCES
    ]
    todo = []
    for name, seed in order:
        key = expected_key(proto, name, seed, digests)
        if key not in done and key not in [k for k, _, _ in todo]:
            todo.append((key, name, seed))
    total = len({expected_key(proto, n, s, digests) for n, s in order})
    print(f'[quality] protocol {proto["name"]}: {len(todo)} run(s) to do, '
          f'{total - len(todo)} already recorded in {osp.relpath(results)}',
          flush=True)
    new = []
    for number, (_, name, seed) in enumerate(todo, 1):
        print(f'[quality] ({number}/{len(todo)}) {name}, seed {seed}',
              flush=True)
        log = osp.join(_abs(work_root), proto['name'], 'logs',
                       f'{name}_seed{seed}.log')
        record = _spawn(proto['path'], name, seed, _abs(work_root), log)
        append_record(results, record)
        new.append(record)
        print(f'[quality]   knn top-1 {record["knn_top1"]:.2f} %, '
              f'{record["wall_s"]:.0f} s', flush=True)
    return new


def run_trial(config: str, cfg_options: dict, seed: int, label: str,
              protocol_path: str, results: str, work_root: str) -> dict:
    """One recipe-search run on a protocol's data and kNN settings."""
    proto = load_protocol(protocol_path)
    trial = dict(proto, name=proto['name'] + '/search')
    entry = dict(name=label, method=label, config=config,
                 cfg_options=cfg_options, budget='')
    record = run_entry(trial, entry, seed, _abs(work_root))
    append_record(results, record)
    return record


# ----------------------------------------------------------------- report
def summarise(records: List[dict], proto: dict,
              digests: Optional[Dict[str, str]]) -> List[dict]:
    """Table rows of one protocol: references, then entries in order."""
    rows = []
    names = list(REFERENCES) + [e['name'] for e in proto['entries']]
    entries = {e['name']: e for e in proto['entries']}
    for name in names:
        recs = [r for r in records
                if r['protocol'] == proto['name'] and r['entry'] == name]
        if digests is not None:
            recs = [r for r in recs
                    if r.get('config_digest') == digests.get(name)]
        if not recs:
            continue
        recs.sort(key=lambda r: r['seed'])
        accs = [r['knn_top1'] for r in recs]
        row = dict(
            name=name,
            label=REFERENCE_LABELS.get(name) or entries[name]['method'],
            reference=name in REFERENCES,
            seeds=[r['seed'] for r in recs],
            accs=accs,
            mean=statistics.fmean(accs),
            std=statistics.stdev(accs) if len(accs) > 1 else 0.0,
            wall_s=statistics.fmean(r['wall_s'] for r in recs),
            last=recs[-1])
        if name in entries:
            entry = entries[name]
            row.update(budget=entry['budget'], bases=entry['bases'],
                       epochs=recs[-1].get('epochs'),
                       train_images=recs[-1].get('train_images'),
                       config=entry['config'])
        rows.append(row)
    by_name = {r['name']: r for r in rows}
    for row in rows:
        row['deltas'] = [
            (by_name[b]['label'] + (f' ({by_name[b]["budget"]})'
                                    if by_name[b].get('budget') else ''),
             row['mean'] - by_name[b]['mean'])
            for b in row.get('bases', []) if b in by_name
        ]
    return rows


def render_table(proto: dict, rows: List[dict]) -> str:
    lines = [
        f'**{proto["title"]}** (protocol `{proto["path"]}`; weighted kNN '
        f'top-1, k={proto["knn"]["k"]}, T={proto["knn"]["temperature"]}, '
        'bank: the whole train split, queries: the whole test split; mean '
        '± sample standard deviation over seeds)', '',
        '| method | budget | kNN top-1 (%) | seeds: each | vs base | '
        'epochs x images | wall time / run |',
        '| --- | --- | --- | --- | --- | --- | --- |'
    ]
    for row in rows:
        each = ', '.join(f'{a:.2f}' for a in row['accs'])
        if row['reference']:
            name = f'*{row["label"]}*'
            if row['name'] == 'untrained':
                name += f': {row["last"].get("init", "")}'
            seeds = ('-' if row['name'] != 'untrained' else
                     f'{len(row["accs"])}: {each}')
            value = (f'{row["mean"]:.2f}' if len(row['accs']) == 1 else
                     f'{row["mean"]:.2f} ± {row["std"]:.2f}')
            lines.append(f'| {name} | - | {value} | {seeds} | - | - | '
                         f'{row["wall_s"]:.0f} s |')
            continue
        delta = '; '.join(f'{d:+.2f} vs {label}'
                          for label, d in row['deltas']) or '-'
        images = row.get('train_images') or 'all'
        # One seed has no spread: say so rather than print 0.
        spread = (f' ± {row["std"]:.2f}' if len(row['accs']) > 1 else
                  ' (1 seed)')
        lines.append(
            f'| [{row["label"]}]({row["config"]}) | {row["budget"] or "-"} | '
            f'**{row["mean"]:.2f}**{spread} | '
            f'{len(row["accs"])}: {each} | {delta} | '
            f'{row["epochs"]} x {images} | '
            f'{row["wall_s"] / 60:.1f} min |')
    last = [r['last'] for r in rows]
    if last:
        dates = sorted({r['date'] for r in last})
        devices = sorted({r['device'] for r in last})
        commits = sorted({r['commit'] for r in last})
        lines += ['', f'Measured on {"; ".join(devices)}, '
                  f'{" to ".join(dict.fromkeys([dates[0], dates[-1]]))}, '
                  f'commit(s) {", ".join(commits)}.']
    return '\n'.join(lines)


def render_chart(proto: dict, rows: List[dict], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    entries = [r for r in rows if not r['reference']]
    refs = {r['name']: r for r in rows if r['reference']}
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * max(len(entries), 1), 4))
    xs = range(len(entries))
    means = [r['mean'] for r in entries]
    ax.bar(xs, means, yerr=[r['std'] for r in entries], capsize=5,
           color=['#4c72b0' if r.get('bases') else '#9aa9bf'
                  for r in entries])
    for x, r in zip(xs, entries):
        ax.plot([x] * len(r['accs']), r['accs'], 'k.', ms=4)
        ax.text(x, r['mean'] + r['std'] + 0.15, f'{r["mean"]:.1f}',
                ha='center', fontsize=8)
    styles = {'pixels': ':', 'pixels-centred': '--', 'untrained': '-.'}
    for name, ref in refs.items():
        ax.axhline(ref['mean'], color='#c44e52', ls=styles[name], lw=1,
                   label=f'{ref["label"]}: {ref["mean"]:.1f}')
    ax.set_xticks(list(xs))
    ax.set_xticklabels(
        [r['label'] + ('\n' + r['budget'] if r.get('budget') else '')
         for r in entries], fontsize=8)
    ax.set_ylabel('weighted kNN top-1 (%)')
    values = means + [r['mean'] for r in refs.values()
                      if r['name'] != 'untrained']
    if values:
        ax.set_ylim(min(values) - 4, max(values) + 2)
    ax.set_title(proto['title'], fontsize=9)
    ax.legend(fontsize=7, loc='lower right')
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


MEASURED = 'measured by this project'


def metafile_results(proto: dict, row: dict) -> List[str]:
    """The ``Results:`` item of a metafile model for one protocol row."""
    each = ', '.join(f'{a:.2f}' for a in row['accs'])
    spread = (f', sample std {row["std"]:.2f}' if len(row['accs']) > 1
              else '')
    last = row['last']
    source = (f'{MEASURED}: {proto["title"]} ({proto["path"]}), '
              f'{row["budget"] or str(row["epochs"]) + " epochs"}; '
              f'weighted kNN top-1 (k={proto["knn"]["k"]}, '
              f'T={proto["knn"]["temperature"]}), mean of '
              f'{len(row["accs"])} seed(s) ({each}{spread}); '
              f'{last["device"]}, last run {last["date"]}')
    dataset = proto['dataset']['type']
    dataset = {'FashionMNIST': 'Fashion-MNIST'}.get(dataset, dataset)
    return [
        '      - Task: Image Classification',
        f'        Dataset: {dataset}',
        f'        Source: {json.dumps(source)}',
        '        Metrics:',
        f'          Top 1 Accuracy: {row["mean"]:.2f}',
    ]


def fill_metafile(path: str, config: str, items: List[str]) -> bool:
    """Set the ``Results:`` of the model whose ``Config:`` is ``config`` in
    an mmpretrain-style metafile, keeping every other line as it is. Only
    ``Results: null`` or results this project measured are replaced (a
    paper's numbers stay); returns whether the model was found."""
    with open(path) as f:
        lines = f.read().split('\n')
    wanted = osp.normpath(_abs(config))
    starts = [i for i, ln in enumerate(lines) if ln.startswith('  - Name:')]
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(lines)
        block = lines[start:stop]
        configs = [ln.split(':', 1)[1].strip() for ln in block
                   if ln.startswith('    Config:')]
        if not configs or osp.normpath(_abs(configs[0])) != wanted:
            continue
        at = next((i for i, ln in enumerate(block)
                   if ln.startswith('    Results:')), None)
        if at is None:
            raise ValueError(f'{path}: model {block[0].split(":", 1)[1]} '
                             'has no "Results:" line')
        end = at + 1
        while end < len(block) and block[end].startswith('      '):
            end += 1
        old = block[at:end]
        if old[0].split(':', 1)[1].strip() != 'null' and not all(
                MEASURED in ln for ln in old if 'Source:' in ln):
            return True  # a paper's numbers: kept
        block[at:end] = ['    Results:'] + items
        lines[start:stop] = block
        with open(path, 'w') as f:
            f.write('\n'.join(lines))
        return True
    return False


def fill_metafiles(proto: dict, rows: List[dict]) -> None:
    """Each entry run with its config as shipped (or marked
    ``metafile=True`` in the protocol) fills its model's results in the
    ``metafile.yml`` beside the config."""
    entries = {e['name']: e for e in proto['entries']}
    for row in rows:
        entry = entries.get(row['name'])
        if entry is None or not entry.get('metafile',
                                          not entry['cfg_options']):
            continue
        meta = osp.join(osp.dirname(_abs(entry['config'])), 'metafile.yml')
        if osp.isfile(meta) and not fill_metafile(
                meta, entry['config'], metafile_results(proto, row)):
            print(f'note: {meta} lists no model with Config: '
                  f'{entry["config"]}; its results were not written there')


def report(protocol_paths: List[str], results: str = RESULTS,
           readme: Optional[str] = README,
           chart_dir: str = CHART_DIR,
           check_digests: bool = True,
           metafiles: bool = True) -> str:
    """Regenerate the README block (tables + charts) from the results, and
    the measured results of the metafiles."""
    records = read_records(results)
    blocks = []
    for path in protocol_paths:
        proto = load_protocol(path)
        digests = entry_digests(proto) if check_digests else None
        rows = summarise(records, proto, digests)
        if metafiles:
            fill_metafiles(proto, rows)
        if not rows:
            blocks.append(f'**{proto["title"]}**: no results recorded yet.')
            continue
        chart = osp.join(chart_dir, f'quality_{proto["name"]}.png')
        render_chart(proto, rows, chart)
        rel = osp.relpath(chart, osp.dirname(osp.abspath(readme))
                          if readme else ROOT)
        blocks.append(render_table(proto, rows) +
                      f'\n\n![{proto["title"]}]({rel})')
    text = '\n\n'.join(blocks)
    if readme:
        fill_block(readme, TABLE_BEGIN, TABLE_END, text)
    return text


SEARCH_RESULTS = osp.join(ROOT, 'tools', 'benchmarks', 'results',
                          'recipe_search.jsonl')
SEARCH_README = osp.join(ROOT, 'configs', 'bsim', 'README.md')
SEARCH_BEGIN = ('<!-- recipe-search:begin (tools/benchmarks/quality.py '
                'report) -->')
SEARCH_END = '<!-- recipe-search:end -->'


def render_search(records: List[dict]) -> str:
    """The recipe-search runs, in the order they were made."""
    lines = [
        '| # | run (what changed) | seed | epochs x images | batch | '
        'train / total time | kNN top-1 (%) |',
        '| --- | --- | --- | --- | --- | --- | --- |'
    ]
    for number, r in enumerate(records, 1):
        lines.append(
            f'| {number} | {r["entry"]} | {r["seed"]} | {r["epochs"]} x '
            f'{r["train_images"] or "all"} | {r["batch_size"]} | '
            f'{r["train_s"] / 60:.1f} / {r["wall_s"] / 60:.1f} min | '
            f'{r["knn_top1"]:.2f} |')
    if records:
        dates = sorted({r['date'] for r in records})
        lines += ['', f'Weighted kNN as in the protocol (whole train split as '
                  f'the bank, whole test split); {records[-1]["device"]}; '
                  f'{" to ".join(dict.fromkeys([dates[0], dates[-1]]))}.']
    return '\n'.join(lines)


def fill_block(path: str, begin: str, end: str, text: str) -> None:
    """Replace what stands between two marker lines of a file."""
    with open(path) as f:
        content = f.read()
    if begin not in content or end not in content:
        raise ValueError(f'{path} has no {begin} ... {end} block to fill')
    head, rest = content.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, 'w') as f:
        f.write(f'{head}{begin}\n{text}\n{end}{tail}')


def default_protocols() -> List[str]:
    folder = osp.join(ROOT, 'configs', 'benchmarks', 'quality')
    return sorted(
        osp.join(folder, f) for f in os.listdir(folder)
        if f.endswith('.py') and not f.startswith('_'))


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    run = sub.add_parser('run', help='run the missing runs of a protocol')
    run.add_argument('protocol')
    run.add_argument('--entries', nargs='+',
                     help='only these entries (or references)')
    run.add_argument('--seeds', nargs='+', type=int)
    run.add_argument('--no-references', action='store_true')
    run.add_argument('--results', default=RESULTS)
    run.add_argument('--work-root', default='work_dirs/quality')
    trial = sub.add_parser('try', help='one recipe-search run')
    trial.add_argument('config')
    trial.add_argument('--protocol',
                       default='configs/benchmarks/quality/fashion-mnist_cpu.py')
    trial.add_argument('--seed', type=int, default=0)
    trial.add_argument('--label', required=True)
    trial.add_argument('--cfg-options', nargs='+', action=DictAction,
                       default={})
    trial.add_argument('--results', default=SEARCH_RESULTS)
    trial.add_argument('--work-root', default='work_dirs/quality')
    rep = sub.add_parser(
        'report', help="regenerate README table + charts and the "
        "metafiles' measured results")
    rep.add_argument('protocols', nargs='*')
    rep.add_argument('--results', default=RESULTS)
    rep.add_argument('--readme', default=README)
    rep.add_argument('--chart-dir', default=CHART_DIR)
    rep.add_argument('--search-results', default=SEARCH_RESULTS)
    rep.add_argument('--search-readme', default=SEARCH_README,
                     help="where the recipe search's table goes ('' skips)")
    child = sub.add_parser('_child')
    child.add_argument('protocol')
    child.add_argument('--entry', required=True)
    child.add_argument('--seed', type=int, required=True)
    child.add_argument('--work-root', required=True)
    return parser.parse_args(argv)


def main(argv=None):
    from bsim_plugin.apis import silence_pkg_resources_warning
    silence_pkg_resources_warning()
    args = parse_args(argv)
    if args.command == '_child':
        _child(args)
    elif args.command == 'run':
        run_protocol(args.protocol, args.entries, args.seeds, args.results,
                     args.work_root, not args.no_references)
    elif args.command == 'try':
        record = run_trial(args.config, dict(args.cfg_options), args.seed,
                           args.label, args.protocol, args.results,
                           args.work_root)
        print(json.dumps(record, indent=1))
    else:
        print(report(args.protocols or default_protocols(), args.results,
                     args.readme, args.chart_dir))
        if args.search_readme and osp.isfile(args.search_results):
            fill_block(args.search_readme, SEARCH_BEGIN, SEARCH_END,
                       render_search(read_records(args.search_results)))


if __name__ == '__main__':
    main()
