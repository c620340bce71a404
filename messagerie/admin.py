from __future__ import annotations

import messagerie.campaign_admin  # noqa: F401  (MSG-4: the campaigns' admin)
