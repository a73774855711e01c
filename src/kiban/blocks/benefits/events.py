"""Event topics and audit tags of the benefits block.

Events carry ids and amounts, never a name or an individual number.
"""

from __future__ import annotations

PROGRAMME_DEFINED = "benefits.programme_defined"
DETERMINED = "benefits.determined"
DECLINED = "benefits.declined"
CORRECTION_REQUESTED = "benefits.correction_requested"
OBLIGATED = "benefits.obligated"
STOPPED = "benefits.stopped"

AUDIT_DEFINED = "benefits:programme:defined"
AUDIT_RUN = "benefits:run:started"
AUDIT_DECLINED = "benefits:determination:declined"
AUDIT_CORRECTION = "benefits:determination:correction_requested"
AUDIT_RESOLVED = "benefits:determination:resolved"
AUDIT_SETTLED = "benefits:run:settled"
AUDIT_SUPPORT_OFFERED = "benefits:support:offered"
AUDIT_STOPPED = "benefits:determination:stopped_by_death"
