"""What every displayed lab object shares: the live widget in a browser, a short deterministic text elsewhere."""
from __future__ import annotations


class Shown:
    """Display ``self.widget``; its text form is ``repr(self)``.

    nbval compares the text form (the widget view's model ids are ignored),
    so each class's ``__repr__`` says, deterministically, what the figure
    shows; GitHub and nbviewer show that text too.
    """

    widget = None

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle
