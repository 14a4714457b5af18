"""The bar chart of one protocol's table (PNG beside the results)."""
import os
import os.path as osp
from typing import List

# Line style of each reference's horizontal line.
REFERENCE_STYLES = {'pixels': ':', 'pixels-centred': '--', 'untrained': '-.'}


def render_chart(proto: dict, rows: List[dict], path: str) -> None:
    """Bars of the entries' means (seeds as dots, sample std as error bars)
    and the references as lines; rows as :func:`.tables.summarise` gives."""
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
    for name, ref in refs.items():
        ax.axhline(ref['mean'], color='#c44e52', ls=REFERENCE_STYLES[name],
                   lw=1, label=f'{ref["label"]}: {ref["mean"]:.1f}')
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
