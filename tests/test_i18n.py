"""French everywhere in the UI: counts follow the French plural rule (0 and
1 take the singular), through the catalogue (`make messages`)."""

from __future__ import annotations

from django.template import Context, Template
from django.utils import translation


def test_counts_follow_the_french_plural_rule() -> None:
    template = Template(
        "{% load i18n %}{% blocktranslate count n=n %}{{ n }} message trouvé"
        "{% plural %}{{ n }} messages trouvés{% endblocktranslate %}"
    )
    with translation.override("fr"):
        shown = [template.render(Context({"n": n})) for n in (0, 1, 2)]
    assert shown == ["0 message trouvé", "1 message trouvé", "2 messages trouvés"]
