from __future__ import annotations

# Models arrive with their issue; see ../shared/SPEC.md.
from agenda.appointment_models import *  # noqa: F401,F403
