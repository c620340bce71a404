from __future__ import annotations

# Models arrive with their issue; see ../shared/SPEC.md.
from messagerie.campaign_models import *  # noqa
