"""Checks of configuration values that name the bad value.

Every component of the plugin checks its numbers when it is built, before
any training, with a message of one form:
``Owner: name must be a finite number > 0, got name=-2.0``.
"""
import math
from typing import Optional


def check_number(owner: str,
                 name: str,
                 value,
                 *,
                 gt: Optional[float] = None,
                 ge: Optional[float] = None,
                 lt: Optional[float] = None,
                 le: Optional[float] = None) -> float:
    """Return ``value`` as a float if it is a finite number in range.

    Args:
        owner (str): the component, first word of the message.
        name (str): the config key.
        value: the value to check; ``bool`` is refused.
        gt, ge, lt, le (float, optional): bounds (``>``, ``>=``, ``<``,
            ``<=``).

    Raises:
        ValueError: naming ``owner``, ``name`` and the value.
    """
    bounds = [(op, bound) for op, bound in (('>', gt), ('>=', ge), ('<', lt),
                                            ('<=', le)) if bound is not None]
    ok = (not isinstance(value, bool) and isinstance(value, (int, float))
          and math.isfinite(value))
    if ok:
        for op, bound in bounds:
            ok &= {
                '>': value > bound,
                '>=': value >= bound,
                '<': value < bound,
                '<=': value <= bound
            }[op]
    if not ok:
        rule = ' and '.join(f'{op} {bound:g}' for op, bound in bounds)
        raise ValueError(f'{owner}: {name} must be a finite number'
                         f'{" " + rule if rule else ""}, got {name}={value!r}')
    return float(value)


def check_int(owner: str, name: str, value, *, ge: int = 1) -> int:
    """Return ``value`` if it is an int (not a bool) ``>= ge``.

    Raises:
        ValueError: ``Owner: name must be an int >= ge, got name=value``.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < ge:
        raise ValueError(f'{owner}: {name} must be an int >= {ge}, got '
                         f'{name}={value!r}')
    return value
