from ...utils.validation import check_number
from .mixture_view import MixtureView, MixtureViewMixin

__all__ = ['BSIMMixin', 'MixtureView']


class BSIMMixin(MixtureViewMixin):
    """What every BSIM algorithm adds to its mmpretrain base class.

    A BSIM algorithm is ``class BSIMX(BSIMMixin, X)``: the mixin checks
    ``bsim_weight`` and the data preprocessor, hands out the mixture view
    with its mixing ratios and global partner indices
    (:class:`MixtureViewMixin`), and gives the algorithm a ``predict`` mode
    for kNN evaluation. The subclass adds its one loss term.

    Call :meth:`check_bsim_weight` before ``super().__init__`` (bad values
    fail before anything is built) and :meth:`check_mixture_preprocessor`
    after it.
    """

    @classmethod
    def check_bsim_weight(cls, bsim_weight: float) -> float:
        """``bsim_weight`` as a float >= 0, or an error naming it."""
        return check_number(cls.__name__, 'bsim_weight', bsim_weight, ge=0)
