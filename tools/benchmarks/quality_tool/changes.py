"""Short views of a protocol's rows, for the README's prose:

- :func:`render_headline`: every method against its base, one line each
  (the README's opening summary);
- :func:`render_changes`: each entry's current rows against its rows of
  the recipe before (records under the entry's previous config digest),
  which leave the table when a recipe or revision changes;
- :func:`render_method_rows`: both, for the entries of one method folder
  (its README).

Pure: records in, Markdown out.
"""
import statistics
from typing import Dict, List, Optional, Set

from .tables import summarise

Digests = Optional[Dict[str, Optional[str]]]


def _stats(accs: List[float]) -> str:
    """'mean ± sd (each, ...)', or 'value (1 seed)'."""
    if len(accs) == 1:
        return f'{accs[0]:.2f} (1 seed)'
    each = ', '.join(f'{a:.2f}' for a in accs)
    return (f'{statistics.fmean(accs):.2f} ± {statistics.stdev(accs):.2f} '
            f'({each})')


def _name(row: dict) -> str:
    budget = row.get('budget')
    return f'{row["label"]} ({budget})' if budget else row['label']


def previous_records(records: List[dict], proto: dict,
                     digests: Dict[str, Optional[str]]) -> Dict[str, list]:
    """Each entry's records of the recipe before its current one: of the
    digests other than the current, the one recorded last (by date, then
    by place in the file)."""
    previous = {}
    for entry in proto['entries']:
        groups = {}
        for place, r in enumerate(records):
            if (r['protocol'] == proto['name'] and r['entry'] == entry['name']
                    and r.get('config_digest') != digests.get(entry['name'])):
                groups.setdefault(r.get('config_digest'), []).append(
                    (r['date'], place, r))
        if groups:
            latest = max(groups.values(), key=lambda g: max(g)[:2])
            previous[entry['name']] = sorted(
                (r for _, _, r in latest), key=lambda r: r['seed'])
    return previous


def headline_lines(records: List[dict], proto: dict, digests: Digests,
                   only: Optional[Set[str]] = None) -> List[str]:
    """One line per entry (of ``only``, default all) and base: the means,
    the difference, and whether it exceeds the larger seed sd."""
    rows = summarise(records, proto, digests)
    by_label = {_name(r): r for r in rows}
    lines = []
    for row in rows:
        if only is not None and row['name'] not in only:
            continue
        for label, delta in row.get('deltas', []):
            base = by_label[label]
            mine, theirs = len(row['accs']), len(base['accs'])
            seeds = f'{mine} seed' + 's' * (mine != 1) + (
                f' against {theirs}' if theirs != mine else '')
            if row['collapsed']:
                seeds += f', {row["collapsed"]} of them collapsed'
            spread = max(row['std'], base['std'])
            verdict = ('within' if abs(delta) <= spread else
                       'ahead by more than' if delta > 0 else
                       'behind by more than')
            lines.append(
                f'- {_name(row)} {row["mean"]:.2f} vs {label} '
                f'{base["mean"]:.2f}: **{delta:+.2f}** ({verdict} the larger '
                f'seed sd, {spread:.2f}; {seeds})')
    return lines


def change_lines(records: List[dict], proto: dict, digests: Digests,
                 only: Optional[Set[str]] = None) -> List[str]:
    """Before -> after for each entry (of ``only``) with both; then the
    entries not run again yet, with their figures before. No line without
    checked digests (every record counts then)."""
    if digests is None:
        return []
    now = {r['name']: r for r in summarise(records, proto, digests)}
    before_recs = previous_records(records, proto, digests)
    before = {r['name']: r
              for r in summarise([x for recs in before_recs.values()
                                  for x in recs], proto, None)}
    lines, pending = [], []
    for entry in proto['entries']:
        name = entry['name']
        if name not in before or (only is not None and name not in only):
            continue
        old = before[name]
        if name not in now:
            pending.append(f'{_name(old)} {_stats(old["accs"])}')
            continue
        new = now[name]
        old_deltas = dict(old['deltas'])
        vs = [f'{d:+.2f} vs {label}' +
              (f' (before {old_deltas[label]:+.2f})'
               if label in old_deltas else '')
              for label, d in new['deltas']]
        lines.append(
            f'- {_name(new)}: **{_stats(new["accs"])}**, before '
            f'{_stats(old["accs"])}: {new["mean"] - old["mean"]:+.2f}'
            + (f'; {"; ".join(vs)}' if vs else '') + '.')
    if pending:
        lines.append('- Not run again yet (before):')
        lines += [f'  - {p}' for p in pending]
    return lines


def _title(proto: dict) -> str:
    return f'**{proto["title"]}**'


def render_headline(records: List[dict], proto: dict,
                    digests: Digests) -> str:
    if not summarise(records, proto, digests):
        return f'{_title(proto)}: not run yet.'
    lines = headline_lines(records, proto, digests) or [
        '- No method measured against its base yet.']
    return (f'{_title(proto)} (weighted kNN top-1, %, mean over seeds; the '
            'table is under [Representation quality]'
            '(#representation-quality-one-protocol-for-every-method)):\n\n'
            + '\n'.join(lines))


BEFORE_AFTER = ('Before -> after (mean ± sample sd over seeds, each seed in '
                'brackets):')


def render_changes(records: List[dict], proto: dict,
                   digests: Digests) -> str:
    lines = change_lines(records, proto, digests)
    if not lines:
        return f'{_title(proto)}: no recipe changed.'
    return f'{_title(proto)}. {BEFORE_AFTER}\n\n' + '\n'.join(lines)


def render_method_rows(records: List[dict], proto: dict, digests: Digests,
                       folder: str) -> str:
    """The entries whose config is in ``folder`` (``configs/sane/``):
    against their bases, then before -> after; '' when the protocol has
    none of them."""
    only = {e['name'] for e in proto['entries']
            if e['config'].startswith(folder)}
    if not only:
        return ''
    earlier = digests is not None and any(
        name in only for name in previous_records(records, proto, digests))
    lines = headline_lines(records, proto, digests, only) or [
        '- Not run yet' + (' with the current recipes.' if earlier else '.')]
    changes = change_lines(records, proto, digests, only)
    if changes:
        lines += ['', BEFORE_AFTER, ''] + changes
    return f'{_title(proto)}:\n\n' + '\n'.join(lines)
